//! The person an advocate works with (the patient), their equality monitoring, and the
//! nearest relative or nominated person.

use crate::legal::coded_enum;
use crate::{ClientId, NhsNumber, Validate, ValidationError, optional_text, require_text};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A client (patient). Name, date of birth and NHS number identify a person: they live only
/// inside the encrypted store and leave it only as output a user asked for.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Client {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dob: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nhs_number: Option<NhsNumber>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hospital: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ward: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_language: Option<String>,
    #[serde(default)]
    pub interpreter_needed: bool,
    /// s130D(5): the patient has asked that the nearest relative not be given information.
    #[serde(default)]
    pub objects_to_relative_being_informed: bool,
    #[serde(default)]
    pub equality: EqualityMonitoring,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("name", &"***")
            .finish_non_exhaustive()
    }
}

impl Client {
    pub fn named(name: impl Into<String>) -> Self {
        Client {
            name: name.into(),
            dob: None,
            nhs_number: None,
            hospital: None,
            ward: None,
            first_language: None,
            interpreter_needed: false,
            objects_to_relative_being_informed: false,
            equality: EqualityMonitoring::default(),
        }
    }

    /// Initials for headers and lists that must not show a full name ("Siân Ap Dafydd" → "S.A.D.").
    pub fn initials(&self) -> String {
        self.name
            .split_whitespace()
            .filter_map(|w| w.chars().next())
            .flat_map(|c| c.to_uppercase().chain(['.']))
            .collect()
    }
}

impl Validate for Client {
    fn validate(&self) -> Result<(), ValidationError> {
        require_text(&self.name, "name", "client")?;
        optional_text(&self.hospital, "hospital", "client")?;
        optional_text(&self.ward, "ward", "client")?;
        optional_text(&self.first_language, "first language", "client")?;
        if self.ward.is_some() && self.hospital.is_none() {
            return Err(ValidationError::Required {
                context: "client with a ward",
                field: "hospital",
            });
        }
        Ok(())
    }
}

/// Age in whole years on `on` (a birthday on 29 February counts from 1 March in other years).
pub fn age_on(dob: NaiveDate, on: NaiveDate) -> Option<u32> {
    use chrono::Datelike;
    if on < dob {
        return None;
    }
    let had_birthday = (on.month(), on.day()) >= (dob.month(), dob.day());
    u32::try_from(on.year() - dob.year() - i32::from(!had_birthday)).ok()
}

/// Date of birth must not be after a given day (callers pass "today"; the domain reads no clock).
pub fn check_dob(dob: NaiveDate, today: NaiveDate) -> Result<(), ValidationError> {
    crate::in_order(&dob, "date of birth", &today, "today")
}

coded_enum! {
    /// NHS Data Dictionary ETHNIC CATEGORY (2001 census based; 2021 categories map onto these).
    /// "Not stated" (Z) is always allowed: nobody is made to answer.
    EthnicCategory, "ethnic category code" {
        WhiteBritish => "A", "White - British";
        WhiteIrish => "B", "White - Irish";
        WhiteOther => "C", "White - Any other White background";
        MixedWhiteBlackCaribbean => "D", "Mixed - White and Black Caribbean";
        MixedWhiteBlackAfrican => "E", "Mixed - White and Black African";
        MixedWhiteAsian => "F", "Mixed - White and Asian";
        MixedOther => "G", "Mixed - Any other mixed background";
        AsianIndian => "H", "Asian or Asian British - Indian";
        AsianPakistani => "J", "Asian or Asian British - Pakistani";
        AsianBangladeshi => "K", "Asian or Asian British - Bangladeshi";
        AsianOther => "L", "Asian or Asian British - Any other Asian background";
        BlackCaribbean => "M", "Black or Black British - Caribbean";
        BlackAfrican => "N", "Black or Black British - African";
        BlackOther => "P", "Black or Black British - Any other Black background";
        Chinese => "R", "Other Ethnic Groups - Chinese";
        OtherEthnicGroup => "S", "Other Ethnic Groups - Any other ethnic group";
        NotStated => "Z", "Not stated";
        NotKnown => "99", "Not known";
    }
}

// The variants come from a macro, so `#[default]` cannot be placed on one.
#[allow(clippy::derivable_impls)]
impl Default for EthnicCategory {
    fn default() -> Self {
        EthnicCategory::NotStated
    }
}

/// Equality monitoring (Equality Act 2010 protected characteristics plus language). Every field
/// may be left "not stated"; free-text answers are the person's own words.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EqualityMonitoring {
    #[serde(default)]
    pub ethnic_category: EthnicCategory,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender_reassignment: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sexual_orientation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub religion: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disability: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marital_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pregnancy_or_maternity: Option<bool>,
}

impl Validate for EqualityMonitoring {
    fn validate(&self) -> Result<(), ValidationError> {
        optional_text(&self.gender, "gender", "equality monitoring")?;
        optional_text(
            &self.sexual_orientation,
            "sexual orientation",
            "equality monitoring",
        )?;
        optional_text(&self.religion, "religion or belief", "equality monitoring")?;
        optional_text(
            &self.marital_status,
            "marriage or civil partnership",
            "equality monitoring",
        )
    }
}

coded_enum! {
    /// Which statutory role a relative holds. The 2025 Act replaces the nearest relative with a
    /// nominated person as it commences; both exist side by side until then.
    RelativeRole, "relative role" {
        NearestRelative => "nearest-relative", "Nearest relative (s26)";
        NominatedPerson => "nominated-person", "Nominated person (Mental Health Act 2025)";
    }
}

/// The nearest relative or nominated person. Not "next of kin": a different legal concept.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Relative {
    pub client_id: ClientId,
    pub role: RelativeRole,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relationship: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// Displaced by the county court (s29) or otherwise no longer acting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ceased_on: Option<NaiveDate>,
}

impl fmt::Debug for Relative {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Relative")
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl Validate for Relative {
    fn validate(&self) -> Result<(), ValidationError> {
        require_text(&self.name, "name", "nearest relative / nominated person")?;
        optional_text(
            &self.relationship,
            "relationship",
            "nearest relative / nominated person",
        )?;
        optional_text(
            &self.contact,
            "contact details",
            "nearest relative / nominated person",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ethnic_category_codes_are_the_data_dictionary_codes_and_not_stated_is_default() {
        assert_eq!(EthnicCategory::CODES.len(), 18);
        assert_eq!("z".parse::<EthnicCategory>(), Ok(EthnicCategory::NotStated));
        assert_eq!("99".parse::<EthnicCategory>(), Ok(EthnicCategory::NotKnown));
        assert_eq!(EthnicCategory::default(), EthnicCategory::NotStated);
        assert!(
            "I".parse::<EthnicCategory>().is_err(),
            "I and O are not used (look like 1 and 0)"
        );
        assert!(
            "Q".parse::<EthnicCategory>()
                .unwrap_err()
                .to_string()
                .contains("Z")
        );
    }

    #[test]
    fn a_client_needs_a_name_and_a_ward_needs_its_hospital() {
        assert_eq!(
            Client::named("  ").validate(),
            Err(ValidationError::Required {
                context: "client",
                field: "name"
            })
        );
        let mut c = Client::named("Siân Llewelyn");
        c.ward = Some("Cedar".into());
        assert!(c.validate().is_err());
        c.hospital = Some("Ysbyty Gwynedd".into());
        assert!(c.validate().is_ok());
    }

    #[test]
    fn initials_handle_non_ascii_names() {
        assert_eq!(Client::named("Łucja Wiśniewska").initials(), "Ł.W.");
        assert_eq!(Client::named("siân ap dafydd").initials(), "S.A.D.");
    }

    #[test]
    fn debug_never_shows_a_name() {
        assert!(!format!("{:?}", Client::named("Zofia Nowak")).contains("Zofia"));
    }

    #[test]
    fn date_of_birth_in_the_future_is_refused() {
        let today: NaiveDate = "2026-11-25".parse().unwrap();
        assert!(check_dob("2027-01-01".parse().unwrap(), today).is_err());
        assert!(check_dob("1990-01-01".parse().unwrap(), today).is_ok());
    }

    #[test]
    fn age_counts_whole_years_and_leap_day_birthdays() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(age_on(d("2008-11-25"), d("2026-11-24")), Some(17));
        assert_eq!(age_on(d("2008-11-25"), d("2026-11-25")), Some(18));
        assert_eq!(age_on(d("2008-02-29"), d("2026-02-28")), Some(17));
        assert_eq!(age_on(d("2008-02-29"), d("2026-03-01")), Some(18));
        assert_eq!(age_on(d("2027-01-01"), d("2026-11-25")), None);
    }
}
