//! Legal status under the Mental Health Act 1983 and its history, and consents.

use crate::{ClientId, Validate, ValidationError, optional_text};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

macro_rules! coded_enum {
    (
        $(#[$meta:meta])* $name:ident, $what:literal {
            $($variant:ident => $code:literal, $label:literal;)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $code)] #[doc = $label] $variant,)*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];
            pub const CODES: &'static [&'static str] = &[$($code,)*];

            /// The short code used on the command line and in exports.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code,)* }
            }

            /// A plain-English label for screens and PDFs.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label,)* }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::ValidationError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let s = s.trim();
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.code().eq_ignore_ascii_case(s))
                    .ok_or_else(|| $crate::ValidationError::unknown($what, s, $name::CODES))
            }
        }
    };
}
pub(crate) use coded_enum;

coded_enum! {
    /// The legal basis a person is held or treated under (or none: informal).
    StatusCode, "legal status code" {
        S2 => "s2", "Section 2 (admission for assessment)";
        S3 => "s3", "Section 3 (admission for treatment)";
        S4 => "s4", "Section 4 (emergency admission)";
        S5_2 => "s5-2", "Section 5(2) (doctor's holding power)";
        S5_4 => "s5-4", "Section 5(4) (nurse's holding power)";
        S7 => "s7", "Section 7 (guardianship)";
        S17A => "s17a", "Section 17A (community treatment order)";
        S35 => "s35", "Section 35 (remand to hospital for report)";
        S36 => "s36", "Section 36 (remand to hospital for treatment)";
        S37 => "s37", "Section 37 (hospital order)";
        S37_41 => "s37-41", "Section 37/41 (hospital order with restrictions)";
        S37Guardianship => "s37-guardianship", "Section 37 (guardianship order)";
        S38 => "s38", "Section 38 (interim hospital order)";
        S45A => "s45a", "Section 45A (hospital and limitation direction)";
        S47 => "s47", "Section 47 (transfer of a sentenced prisoner)";
        S47_49 => "s47-49", "Section 47/49 (transfer of a sentenced prisoner with restrictions)";
        S48 => "s48", "Section 48 (transfer of an unsentenced prisoner)";
        S48_49 => "s48-49", "Section 48/49 (transfer of an unsentenced prisoner with restrictions)";
        S135 => "s135", "Section 135 (warrant to search for and remove)";
        S136 => "s136", "Section 136 (removal to a place of safety)";
        ConditionalDischarge => "conditional-discharge", "Conditionally discharged restricted patient";
        ConditionalDischargeDol => "conditional-discharge-dol", "Conditionally discharged, with conditions amounting to a deprivation of liberty (s42(2A), s73(5A))";
        Informal => "informal", "Informal (not under a section)";
    }
}

coded_enum! {
    /// What happened in a person's legal-status history.
    LegalEventKindCode, "legal event" {
        StatusStarted => "status-started", "Legal status began";
        Renewed => "renewed", "Detention, guardianship or CTO renewed or extended";
        TribunalApplication => "tribunal-application", "Application to the tribunal";
        ApplicationWithdrawn => "application-withdrawn", "Tribunal application withdrawn";
        TribunalHearing => "tribunal-hearing", "Tribunal hearing held";
        ManagersHearing => "managers-hearing", "Hospital managers' hearing held";
        Reference => "reference", "Reference to the tribunal (managers or Secretary of State)";
        Recalled => "recalled", "Recalled to hospital";
        BarringReport => "barring-report", "Nearest relative told of a barring report (s25)";
        CtoRevoked => "cto-revoked", "Community treatment order revoked (s17F): detained again";
        NearestRelativeDisplaced => "nearest-relative-displaced", "Nearest relative displaced by a county court order (s29, ground (c) or (d))";
        Ended => "ended", "Legal status ended (discharge, expiry, regrading)";
    }
}

/// One dated entry in a person's legal-status history. The rules engine computes windows and
/// reminders from these; they are append-only facts.
// No `deny_unknown_fields` here: serde does not support it together with `flatten`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LegalEvent {
    pub client_id: ClientId,
    pub on: NaiveDate,
    #[serde(flatten)]
    pub kind: LegalEventKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum LegalEventKind {
    StatusStarted {
        status: StatusCode,
    },
    Renewed,
    TribunalApplication {
        applicant: Applicant,
    },
    ApplicationWithdrawn,
    TribunalHearing {
        outcome: Option<String>,
    },
    ManagersHearing {
        outcome: Option<String>,
    },
    Reference,
    Recalled,
    /// The nearest relative was told that the responsible clinician barred their order for
    /// discharge (s. 25): their 28 days to apply to the tribunal start.
    BarringReport,
    /// The responsible clinician revoked the community treatment order (s. 17F): the patient
    /// is detained again under `status`, the authority the CTO was made under (s. 3, or s. 37,
    /// s. 47 or s. 48 without restrictions), for a new period beginning with this day (s. 17G).
    CtoRevoked {
        status: StatusCode,
    },
    /// A county court order under s. 29 displaced the nearest relative on the ground in
    /// s. 29(3)(c) or (d): the displaced relative may apply to the tribunal in the 12 months
    /// beginning with the order and each 12 months after while it is in force (s. 66(1)(h),
    /// (2)(g)).
    NearestRelativeDisplaced,
    Ended,
}

/// The statuses a community treatment order can be made under (s. 17A(1); Sch. 1 Pt. 1 for
/// hospital orders and unrestricted transfers): what a revoked CTO returns the patient to.
pub const CTO_UNDERLYING: &[StatusCode] = &[
    StatusCode::S3,
    StatusCode::S37,
    StatusCode::S47,
    StatusCode::S48,
];

impl LegalEventKind {
    pub fn code(&self) -> LegalEventKindCode {
        match self {
            LegalEventKind::StatusStarted { .. } => LegalEventKindCode::StatusStarted,
            LegalEventKind::Renewed => LegalEventKindCode::Renewed,
            LegalEventKind::TribunalApplication { .. } => LegalEventKindCode::TribunalApplication,
            LegalEventKind::ApplicationWithdrawn => LegalEventKindCode::ApplicationWithdrawn,
            LegalEventKind::TribunalHearing { .. } => LegalEventKindCode::TribunalHearing,
            LegalEventKind::ManagersHearing { .. } => LegalEventKindCode::ManagersHearing,
            LegalEventKind::Reference => LegalEventKindCode::Reference,
            LegalEventKind::Recalled => LegalEventKindCode::Recalled,
            LegalEventKind::BarringReport => LegalEventKindCode::BarringReport,
            LegalEventKind::CtoRevoked { .. } => LegalEventKindCode::CtoRevoked,
            LegalEventKind::NearestRelativeDisplaced => {
                LegalEventKindCode::NearestRelativeDisplaced
            }
            LegalEventKind::Ended => LegalEventKindCode::Ended,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Applicant {
    Patient,
    NearestRelative,
    NominatedPerson,
}

impl Validate for LegalEvent {
    /// Every kind of event is something that happened (a hearing held, a status begun).
    fn check_dates(&self, today: NaiveDate) -> Result<(), ValidationError> {
        crate::happened(self.on, today, "the date of the event")
    }

    fn validate(&self) -> Result<(), ValidationError> {
        if let LegalEventKind::CtoRevoked { status } = &self.kind
            && !CTO_UNDERLYING.contains(status)
        {
            return Err(ValidationError::Invalid {
                field: "detained again under",
                reason: format!(
                    "a community treatment order is made under section 3, 37, 47 or 48 (without restrictions), so revoking one cannot return the patient to {}",
                    status.label()
                ),
            });
        }
        optional_text(&self.note, "note", "legal status event")
    }
}

/// The status in force on `on`, from a history in any order: the latest `StatusStarted` on or
/// before that day, unless an `Ended` came after it.
pub fn status_on(history: &[LegalEvent], on: NaiveDate) -> Option<(StatusCode, NaiveDate)> {
    let mut events: Vec<&LegalEvent> = history.iter().filter(|e| e.on <= on).collect();
    events.sort_by_key(|e| e.on);
    let mut current = None;
    for e in events {
        match &e.kind {
            LegalEventKind::StatusStarted { status } | LegalEventKind::CtoRevoked { status } => {
                current = Some((*status, e.on))
            }
            LegalEventKind::Ended => current = None,
            _ => {}
        }
    }
    current
}

coded_enum! {
    /// What a consent is about.
    ConsentScope, "consent scope" {
        RecordsAccess => "records-access", "Access to health and social care records (s130B(3)(c))";
        ShareWithProfessionals => "share-with-professionals", "Sharing information with professionals involved";
        ShareWithNearestRelative => "share-with-nearest-relative", "Sharing information with the nearest relative or nominated person";
        ShareWithFamily => "share-with-family", "Sharing information with family or carers";
        Other => "other", "Other (described in the note)";
    }
}

coded_enum! {
    /// The person's answer, or that they lack capacity to give one.
    ConsentState, "consent state" {
        Given => "given", "Given";
        Refused => "refused", "Refused";
        Withdrawn => "withdrawn", "Withdrawn";
        LacksCapacity => "lacks-capacity", "Lacks capacity to decide (record holder decides for records)";
    }
}

/// A consent decision. Consents are never edited: a change is a new record, so the history of
/// given / refused / withdrawn is kept in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Consent {
    pub client_id: ClientId,
    pub scope: ConsentScope,
    pub state: ConsentState,
    pub on: NaiveDate,
    /// How it was obtained (verbally on the ward, in writing...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub how: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub witness: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Validate for Consent {
    fn check_dates(&self, today: NaiveDate) -> Result<(), ValidationError> {
        crate::happened(self.on, today, "the date of the decision")
    }

    fn validate(&self) -> Result<(), ValidationError> {
        optional_text(&self.how, "how consent was obtained", "consent")?;
        optional_text(&self.witness, "witness", "consent")?;
        optional_text(&self.note, "note", "consent")?;
        if self.scope == ConsentScope::Other && self.note.is_none() {
            return Err(ValidationError::Required {
                context: "consent with scope 'other'",
                field: "a note saying what it covers",
            });
        }
        Ok(())
    }
}

/// The latest decision for a scope, from a history in any order (ties: the later entry wins).
pub fn current_consent(history: &[Consent], scope: ConsentScope) -> Option<&Consent> {
    history
        .iter()
        .filter(|c| c.scope == scope)
        .enumerate()
        .max_by_key(|(i, c)| (c.on, *i))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn every_status_code_the_cli_accepts_parses_and_round_trips() {
        let codes = "s2 s3 s4 s5-2 s5-4 s7 s17a s35 s36 s37 s37-41 s37-guardianship s38 s45a s47 s47-49 s48 s48-49 s135 s136 conditional-discharge conditional-discharge-dol informal";
        for code in codes.split(' ') {
            let s: StatusCode = code.parse().unwrap();
            assert_eq!(s.code(), code);
            assert_eq!(serde_json::to_value(s).unwrap(), serde_json::json!(code));
        }
        assert_eq!(StatusCode::ALL.len(), 23);
    }

    #[test]
    fn unknown_status_lists_the_valid_codes() {
        let err = "s99".parse::<StatusCode>().unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("unknown legal status code 's99'"), "{msg}");
        assert!(
            msg.contains("s37-41") && msg.contains("conditional-discharge"),
            "{msg}"
        );
    }

    #[test]
    fn status_on_follows_history_including_regrading_and_discharge() {
        let c = ClientId::new_random();
        let ev = |on: &str, kind| LegalEvent {
            client_id: c,
            on: d(on),
            kind,
            note: None,
        };
        let history = vec![
            ev(
                "2026-03-10",
                LegalEventKind::StatusStarted {
                    status: StatusCode::S3,
                },
            ),
            ev(
                "2026-03-01",
                LegalEventKind::StatusStarted {
                    status: StatusCode::S2,
                },
            ),
            ev("2026-05-01", LegalEventKind::Ended),
        ];
        assert_eq!(status_on(&history, d("2026-02-28")), None);
        assert_eq!(
            status_on(&history, d("2026-03-05")),
            Some((StatusCode::S2, d("2026-03-01")))
        );
        assert_eq!(
            status_on(&history, d("2026-04-01")),
            Some((StatusCode::S3, d("2026-03-10")))
        );
        assert_eq!(status_on(&history, d("2026-05-02")), None);
    }

    #[test]
    fn latest_consent_wins_and_history_is_kept() {
        let c = ClientId::new_random();
        let consent = |on: &str, state| Consent {
            client_id: c,
            scope: ConsentScope::RecordsAccess,
            state,
            on: d(on),
            how: None,
            witness: None,
            note: None,
        };
        let history = vec![
            consent("2026-01-01", ConsentState::Given),
            consent("2026-02-01", ConsentState::Withdrawn),
            consent("2026-02-01", ConsentState::Given),
        ];
        assert_eq!(
            current_consent(&history, ConsentScope::RecordsAccess).map(|c| c.state),
            Some(ConsentState::Given)
        );
        assert_eq!(
            current_consent(&history, ConsentScope::ShareWithFamily),
            None
        );
    }
}
