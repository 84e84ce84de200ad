//! One id type per entity, so a case id can never be passed where a client id is wanted.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! id_type {
    ($($name:ident => $what:literal),* $(,)?) => {$(
        #[doc = concat!("Identifies one ", $what, ". A random UUID: it says nothing about the person.")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            pub fn new_random() -> Self {
                Self(Uuid::new_v4())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = crate::ValidationError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s.trim()).map(Self).map_err(|_| crate::ValidationError::Invalid {
                    field: concat!($what, " id"),
                    reason: "not an id; copy it from the output of the command that created it".into(),
                })
            }
        }
    )*};
}

id_type! {
    ClientId => "client",
    ReferralId => "referral",
    CaseId => "case",
    IssueId => "issue",
    ActivityId => "activity",
    NoteVersionId => "note version",
    LegalEventId => "legal status event",
    ConsentId => "consent",
    SafeguardingId => "safeguarding event",
    RelativeId => "relative",
    AdvocateId => "advocate",
    TeamId => "team",
    AmendmentId => "amendment",
    TaskId => "task",
    TaskUpdateId => "task update",
}
