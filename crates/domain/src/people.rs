//! Advocates and teams.

use crate::{TeamId, Validate, ValidationError, optional_text, require_text};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Advocate {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<TeamId>,
    /// e.g. the National Qualification in Independent Advocacy (IMHA unit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualification: Option<String>,
    /// Enhanced DBS check date (SI 2008/3166 requires integrity and good character).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dbs_checked_on: Option<NaiveDate>,
}

impl Validate for Advocate {
    fn validate(&self) -> Result<(), ValidationError> {
        require_text(&self.name, "name", "advocate")?;
        optional_text(&self.qualification, "qualification", "advocate")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Team {
    pub name: String,
}

impl Validate for Team {
    fn validate(&self) -> Result<(), ValidationError> {
        require_text(&self.name, "name", "team")
    }
}
