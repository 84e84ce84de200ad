//! Every coded list the screens offer (statuses, activity kinds, outcomes...), with its labels:
//! the app asks for these once, so a label is written in one place, here in the domain.

use crate::activity::{ActivityKindCode, ContactMethod, RightsTopic};
use crate::case::{
    ClosureReason, IssueCategory, NonInstructedApproach, OutcomeKind, ReferralSource,
};
use crate::client::{EthnicCategory, RelativeRole};
use crate::legal::{ConsentScope, ConsentState, LegalEventKindCode, StatusCode};
use crate::safeguarding::SafeguardingKind;
use serde::Serialize;
use std::collections::BTreeMap;

/// One choice in a list.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Choice {
    pub code: &'static str,
    pub label: &'static str,
}

macro_rules! lists {
    ($($key:literal => $ty:ty),* $(,)?) => {
        /// The lists by name (`"status"`, `"activity-kind"`, ...), each in the order to show.
        pub fn vocabulary() -> BTreeMap<&'static str, Vec<Choice>> {
            let mut out = BTreeMap::new();
            $(out.insert(
                $key,
                <$ty>::ALL.iter().map(|v| Choice { code: v.code(), label: v.label() }).collect(),
            );)*
            out
        }
    };
}

lists! {
    "status" => StatusCode,
    "legal-event" => LegalEventKindCode,
    "activity-kind" => ActivityKindCode,
    "rights-topic" => RightsTopic,
    "contact-method" => ContactMethod,
    "referral-source" => ReferralSource,
    "non-instructed-approach" => NonInstructedApproach,
    "closure-reason" => ClosureReason,
    "issue-category" => IssueCategory,
    "outcome" => OutcomeKind,
    "ethnic-category" => EthnicCategory,
    "relative-role" => RelativeRole,
    "consent-scope" => ConsentScope,
    "consent-state" => ConsentState,
    "safeguarding-kind" => SafeguardingKind,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_list_is_there_with_its_labels() {
        let v = vocabulary();
        assert_eq!(v.len(), 15);
        assert_eq!(v["activity-kind"].len(), 11);
        assert_eq!(
            v["activity-kind"][2],
            Choice {
                code: "ward-round",
                label: "Ward round representation"
            }
        );
        assert!(v["ethnic-category"].iter().any(|c| c.code == "Z"));
    }
}
