//! Form input that fails to parse, caught where it arrives. Tauri refuses a command whose
//! arguments do not deserialize before any Wardside code runs, with a message that can echo
//! what was typed; a command that takes `Checked<T>` instead gets the value or an [`AppError`]
//! naming the field in the same words as the domain's own checks ("NHS number must be 10 digits
//! and pass the check digit", "Date must be a real date").

use crate::error::AppError;
use serde::de::{Deserialize, DeserializeOwned, Deserializer};
use wardside_domain::ValidationError;
use wardside_domain::error::FIELD_KEYS;

/// An argument that always arrives; [`Checked::get`] says whether it parsed.
#[derive(Debug)]
pub struct Checked<T>(Result<T, AppError>);

impl<'de, T: DeserializeOwned> Deserialize<'de> for Checked<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        Ok(Checked(parse(value)))
    }
}

impl<T> Checked<T> {
    pub fn get(self) -> Result<T, AppError> {
        self.0
    }
}

/// Fields holding a date: their only way to fail is not being a real date.
const DATE_FIELDS: &[&str] = &[
    "at",
    "on",
    "dob",
    "opened_on",
    "received_on",
    "hearing_on",
    "response_due",
    "seen_on",
    "due",
    "snoozed_until",
    "status_since",
];

pub(crate) fn parse<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, AppError> {
    let original = value.clone();
    serde_path_to_error::deserialize(value).map_err(|e| {
        // The last named field on the way down: "client.nhs_number" → "nhs_number".
        let path = e.path().to_string();
        let key = path
            .rsplit('.')
            .find(|s| !s.is_empty() && !s.starts_with('[') && !s.starts_with('?'))
            .unwrap_or("")
            .to_owned();
        field_error(&key, lookup(&original, &path))
    })
}

/// The value at a dotted path, for re-checking it with the domain's own rule.
fn lookup<'v>(v: &'v serde_json::Value, path: &str) -> Option<&'v serde_json::Value> {
    path.split('.')
        .filter(|s| !s.is_empty())
        .try_fold(v, |v, seg| {
            match seg.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
                Some(i) => v.get(i.parse::<usize>().ok()?),
                None => v.get(seg),
            }
        })
}

fn field_error(key: &str, value: Option<&serde_json::Value>) -> AppError {
    let known = FIELD_KEYS.iter().find(|(_, k)| *k == key);
    let field = known.map(|(_, k)| *k);
    let message = if key == "nhs_number" {
        let typed = value.and_then(|v| v.as_str()).unwrap_or("");
        match typed.parse::<wardside_domain::NhsNumber>() {
            Err(e) => e.for_person(),
            Ok(_) => ValidationError::InvalidNhsNumber { reason: "" }.for_person(),
        }
    } else if DATE_FIELDS.contains(&key) {
        let label = known.map(|(phrase, _)| *phrase).unwrap_or("the date");
        ValidationError::Invalid {
            field: label,
            reason: "must be a real date".into(),
        }
        .for_person()
    } else if let Some((phrase, _)) = known {
        format!("Check {phrase}: it could not be read")
    } else {
        "Some of what you entered could not be read. Check the dates, times and numbers, then save again. Nothing was saved.".into()
    };
    AppError {
        code: "invalid",
        message,
        field: field.or(if key == "nhs_number" {
            Some("nhs_number")
        } else {
            None
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use wardside_domain::{Client, SafeguardingEvent};

    #[test]
    fn an_nhs_number_that_fails_its_check_is_named_beside_its_field() {
        let mut client = serde_json::to_value(Client::named("Ann")).expect("a client");
        client["nhs_number"] = json!("943 476 5918");
        let e = parse::<Client>(client).expect_err("refused");
        assert_eq!(e.code, "invalid");
        assert_eq!(e.field, Some("nhs_number"));
        assert_eq!(
            e.message,
            "NHS number must be 10 digits and pass the check digit"
        );
        assert!(!e.message.contains("5918"), "never echoes what was typed");
    }

    #[test]
    fn a_date_that_is_not_real_is_named_beside_its_field() {
        let event = json!({
            "case_id": "4f7e6a0e-4d1a-4c39-9a53-0d7c1b0f2e11",
            "kind": "safeguarding-concern",
            "at": "2026-02-31T10:00:00",
            "reason": "r", "who_was_told": "w", "discussed_with_person_first": true, "manager": "m"
        });
        let e = parse::<SafeguardingEvent>(event).expect_err("refused");
        assert_eq!(e.field, Some("at"));
        assert_eq!(e.message, "The date must be a real date");
    }

    #[test]
    fn a_value_that_parses_comes_through() {
        let client = serde_json::to_value(Client::named("Ann")).expect("a client");
        assert_eq!(parse::<Client>(client).expect("parses").name, "Ann");
    }
}
