//! Referrals, cases (one period of IMHA support), and the issues agreed with the person.

use crate::legal::coded_enum;
use crate::{
    AdvocateId, CaseId, ClientId, ReferralId, TeamId, Validate, ValidationError, in_order,
    optional_text, require_text,
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

coded_enum! {
    ReferralSource, "referral source" {
        SelfReferral => "self", "The person themselves";
        WardStaff => "ward-staff", "Ward staff";
        ResponsibleClinician => "responsible-clinician", "Responsible clinician";
        Amhp => "amhp", "Approved mental health professional";
        NearestRelative => "nearest-relative", "Nearest relative or nominated person";
        MhaOffice => "mha-office", "Hospital managers / MHA office";
        Solicitor => "solicitor", "Solicitor";
        FamilyOrCarer => "family-or-carer", "Family or carer";
        OtherAdvocacy => "other-advocacy", "Another advocacy service";
        ProactiveVisit => "proactive-visit", "Proactive ward visit / opt-out";
        Other => "other", "Other";
    }
}

/// How a request for IMHA help arrived.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Referral {
    pub client_id: ClientId,
    pub received_on: NaiveDate,
    pub source: ReferralSource,
    /// Phone, email, in person, form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
    /// Whether the person is a qualifying patient on the day the referral came in, with the
    /// reason and its source: recorded from the rules engine, or the advocate's own reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eligible: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eligibility_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eligibility_source: Option<String>,
    /// For an informal patient: whether they were an in-patient when referred (in Wales only
    /// an in-patient qualifies, s. 130J(2)(a)). Not known: absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inpatient: Option<bool>,
    /// The commissioner (responsible authority) the referral came to, for one that leads to no
    /// case (the case's own authority counts once there is one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responsible_authority: Option<String>,
    /// Whether the person is placed outside the commissioner's area. Not known: absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_of_area: Option<bool>,
}

/// The eligibility source of an answer the advocate gave rather than the rules engine.
pub const ADVOCATES_ASSESSMENT: &str = "the advocate's assessment";

impl Referral {
    /// Record that the advocate found the person not eligible, in their own words.
    pub fn record_not_eligible(&mut self, reason: String) {
        self.eligible = Some(false);
        self.eligibility_reason = Some(reason);
        self.eligibility_source = Some(ADVOCATES_ASSESSMENT.into());
    }

    /// Whether eligibility was the rules engine's answer (not the advocate's own).
    pub fn decided_by_rules(&self) -> bool {
        self.eligibility_source.as_deref() != Some(ADVOCATES_ASSESSMENT)
    }

    /// Record the rules engine's answer on the referral.
    pub fn record_eligibility(&mut self, e: &crate::rules::Eligibility) {
        self.eligible = Some(e.eligible);
        self.eligibility_reason = Some(e.reason.clone());
        self.eligibility_source = Some(e.source.clone());
    }
}

impl Validate for Referral {
    fn check_dates(&self, today: NaiveDate) -> Result<(), ValidationError> {
        crate::happened(
            self.received_on,
            today,
            "the date the referral was received",
        )
    }

    fn validate(&self) -> Result<(), ValidationError> {
        optional_text(&self.method, "method", "referral")?;
        optional_text(&self.referrer, "referrer", "referral")?;
        if self.eligible == Some(false) && self.eligibility_reason.is_none() {
            return Err(ValidationError::Required {
                context: "ineligible referral",
                field: "the reason it is ineligible",
            });
        }
        optional_text(&self.eligibility_reason, "eligibility reason", "referral")?;
        optional_text(&self.eligibility_source, "eligibility source", "referral")?;
        optional_text(
            &self.responsible_authority,
            "responsible authority",
            "referral",
        )
    }
}

coded_enum! {
    /// Approaches to non-instructed advocacy (IMHA non-instructed best-practice guidance).
    NonInstructedApproach, "non-instructed approach" {
        RightsBased => "rights-based", "Rights-based";
        WatchingBrief => "watching-brief", "Watching brief";
        PersonCentred => "person-centred", "Person-centred";
        QuestionAnswer => "question-answer", "Question and answer";
    }
}

/// Whether the person can instruct the advocate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "kebab-case")]
pub enum Instruction {
    Instructed,
    NonInstructed {
        approach: NonInstructedApproach,
        reason: String,
    },
}

coded_enum! {
    ClosureReason, "closure reason" {
        IssuesResolved => "issues-resolved", "Issues resolved";
        PersonEndedSupport => "person-ended", "The person declined or ended support";
        Discharged => "discharged", "Discharged";
        Transferred => "transferred", "Transferred to another hospital or service";
        LostContact => "lost-contact", "Lost contact";
        NoLongerEligible => "no-longer-eligible", "No longer a qualifying patient";
        Died => "died", "Died";
        Other => "other", "Other";
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseClosure {
    pub on: NaiveDate,
    pub reason: ClosureReason,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One period of IMHA support: short-term and issue-focused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub client_id: ClientId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referral_id: Option<ReferralId>,
    pub opened_on: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advocate_id: Option<AdvocateId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<TeamId>,
    pub instruction: Instruction,
    /// The local social services authority (England) or health board (Wales) responsible:
    /// the commissioner the case is reported to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responsible_authority: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<CaseClosure>,
}

impl Case {
    pub fn opened(client_id: ClientId, opened_on: NaiveDate) -> Self {
        Case {
            client_id,
            referral_id: None,
            opened_on,
            advocate_id: None,
            team_id: None,
            instruction: Instruction::Instructed,
            responsible_authority: None,
            closed: None,
        }
    }
}

impl Validate for Case {
    fn check_dates(&self, today: NaiveDate) -> Result<(), ValidationError> {
        crate::happened(self.opened_on, today, "the date the case opened")?;
        if let Some(closure) = &self.closed {
            crate::happened(closure.on, today, "the closing date")?;
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), ValidationError> {
        if let Instruction::NonInstructed { reason, .. } = &self.instruction {
            require_text(
                reason,
                "why the person cannot instruct",
                "non-instructed case",
            )?;
        }
        optional_text(&self.responsible_authority, "responsible authority", "case")?;
        if let Some(closure) = &self.closed {
            in_order(
                &self.opened_on,
                "the date the case opened",
                &closure.on,
                "the closing date",
            )?;
            optional_text(&closure.note, "closing note", "case")?;
        }
        Ok(())
    }
}

/// Closing needs an outcome on every issue: the work is issue-focused, and the file must show
/// what happened to each thing we agreed to work on.
pub fn check_can_close(
    case: &Case,
    issues: &[Issue],
    closure: &CaseClosure,
) -> Result<(), ValidationError> {
    if case.closed.is_some() {
        return Err(ValidationError::Invalid {
            field: "case",
            reason: "it is already closed".into(),
        });
    }
    let open = issues.iter().filter(|i| i.outcome.is_none()).count();
    if open > 0 {
        return Err(ValidationError::Invalid {
            field: "case",
            reason: format!(
                "{open} issue(s) have no outcome yet; record an outcome for each issue before closing"
            ),
        });
    }
    let mut closed = case.clone();
    closed.closed = Some(closure.clone());
    closed.validate()
}

coded_enum! {
    IssueCategory, "issue category" {
        Rights => "rights", "Understanding rights or section";
        Tribunal => "tribunal", "Tribunal application or hearing";
        ManagersHearing => "managers-hearing", "Hospital managers' hearing";
        WardRoundCpa => "ward-round-cpa", "Ward round, CPA or care and treatment review";
        Medication => "medication", "Medication or consent to treatment (s58, SOAD)";
        Ect => "ect", "ECT";
        Leave => "leave", "Section 17 leave";
        Discharge => "discharge", "Discharge planning and s117 after-care";
        RestrictivePractice => "restrictive-practice", "Restrictive practice (seclusion, restraint, blanket restrictions)";
        Records => "records", "Access to records";
        Complaint => "complaint", "Complaint";
        NearestRelative => "nearest-relative", "Nearest relative, nominated person or displacement";
        Cto => "cto", "CTO conditions or recall";
        PhysicalHealth => "physical-health", "Physical health";
        Practical => "practical", "Housing, benefits or finances (signposting)";
        Property => "property", "Property or possessions";
        Contact => "contact", "Contact with family and friends";
        Culture => "culture", "Diet, religion or culture";
        Other => "other", "Other";
    }
}

coded_enum! {
    OutcomeKind, "outcome" {
        UnderstandsRights => "understands-rights", "Person understands their rights";
        ApplicationMade => "application-made", "Application made";
        ViewPut => "view-put", "Person's view put to decision makers";
        DecisionChanged => "decision-changed", "Decision changed";
        ComplaintUpheld => "complaint-upheld", "Complaint upheld";
        Signposted => "signposted", "Signposted (e.g. to a solicitor)";
        NotAchieved => "not-achieved", "Not achieved";
        Withdrawn => "withdrawn", "Person withdrew the issue";
        Other => "other", "Other";
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueOutcome {
    pub kind: OutcomeKind,
    pub on: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Something the person asked us to work on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Issue {
    pub case_id: CaseId,
    pub category: IssueCategory,
    /// In the person's own terms.
    pub summary: String,
    pub opened_on: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<IssueOutcome>,
}

impl Validate for Issue {
    fn check_dates(&self, today: NaiveDate) -> Result<(), ValidationError> {
        crate::happened(self.opened_on, today, "the date the issue was raised")?;
        if let Some(outcome) = &self.outcome {
            crate::happened(outcome.on, today, "the outcome date")?;
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), ValidationError> {
        require_text(&self.summary, "summary", "issue")?;
        if let Some(outcome) = &self.outcome {
            in_order(
                &self.opened_on,
                "the date the issue was raised",
                &outcome.on,
                "the outcome date",
            )?;
            optional_text(&outcome.note, "outcome note", "issue")?;
            if outcome.kind == OutcomeKind::Other && outcome.note.is_none() {
                return Err(ValidationError::Required {
                    context: "outcome 'other'",
                    field: "a note describing it",
                });
            }
        }
        Ok(())
    }
}

impl fmt::Display for Instruction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Instruction::Instructed => f.write_str("instructed"),
            Instruction::NonInstructed { approach, .. } => {
                write!(f, "non-instructed ({})", approach.label())
            }
        }
    }
}

/// When a case asks for a second look. IMHA support is short-term and issue-focused: a case
/// open a long time, or with nothing recorded lately, should be reviewed or closed. The numbers
/// are a service's policy, not law: these are defaults an organisation can change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagPolicy {
    pub open_longer_than_days: i64,
    pub quiet_for_days: i64,
}

impl Default for FlagPolicy {
    fn default() -> Self {
        FlagPolicy {
            open_longer_than_days: 90,
            quiet_for_days: 28,
        }
    }
}

/// Why a case is flagged on the caseload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaseFlagKind {
    OpenLong,
    NoRecentActivity,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseFlag {
    pub kind: CaseFlagKind,
    pub text: String,
}

/// The flags on an open case on `today`: open longer than the policy allows, and no activity
/// recorded for a while (or ever, once the case is older than that).
pub fn case_flags(
    opened_on: NaiveDate,
    last_activity: Option<NaiveDate>,
    today: NaiveDate,
    policy: FlagPolicy,
) -> Vec<CaseFlag> {
    let mut flags = Vec::new();
    let open_days = (today - opened_on).num_days();
    if open_days > policy.open_longer_than_days {
        flags.push(CaseFlag {
            kind: CaseFlagKind::OpenLong,
            text: format!("Open {open_days} days: review whether the issues are resolved"),
        });
    }
    let quiet = match last_activity {
        Some(last) => (today - last).num_days(),
        None => open_days,
    };
    if quiet > policy.quiet_for_days {
        flags.push(CaseFlag {
            kind: CaseFlagKind::NoRecentActivity,
            text: match last_activity {
                Some(_) => format!("Nothing recorded for {quiet} days"),
                None => format!("Nothing recorded since it opened {open_days} days ago"),
            },
        });
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn closing_before_opening_is_refused() {
        let mut case = Case::opened(ClientId::new_random(), d("2026-05-01"));
        case.closed = Some(CaseClosure {
            on: d("2026-04-30"),
            reason: ClosureReason::IssuesResolved,
            note: None,
        });
        let msg = case.validate().unwrap_err().to_string();
        assert_eq!(
            msg,
            "the closing date (2026-04-30) is before the date the case opened (2026-05-01); check the dates"
        );
    }

    #[test]
    fn a_case_closes_only_when_every_issue_has_an_outcome() {
        let case = Case::opened(ClientId::new_random(), d("2026-05-01"));
        let case_id = CaseId::new_random();
        let mut issue = Issue {
            case_id,
            category: IssueCategory::Tribunal,
            summary: "Wants to appeal".into(),
            opened_on: d("2026-05-01"),
            outcome: None,
        };
        let closure = CaseClosure {
            on: d("2026-06-01"),
            reason: ClosureReason::IssuesResolved,
            note: None,
        };
        let err = check_can_close(&case, std::slice::from_ref(&issue), &closure).unwrap_err();
        assert!(err.to_string().contains("1 issue(s) have no outcome yet"));
        issue.outcome = Some(IssueOutcome {
            kind: OutcomeKind::ApplicationMade,
            on: d("2026-05-03"),
            note: None,
        });
        assert!(check_can_close(&case, &[issue], &closure).is_ok());
    }

    #[test]
    fn non_instructed_needs_a_reason_and_ineligible_referral_needs_one_too() {
        let mut case = Case::opened(ClientId::new_random(), d("2026-05-01"));
        case.instruction = Instruction::NonInstructed {
            approach: NonInstructedApproach::RightsBased,
            reason: " ".into(),
        };
        assert!(case.validate().is_err());
        let r = Referral {
            client_id: ClientId::new_random(),
            received_on: d("2026-05-01"),
            source: ReferralSource::WardStaff,
            method: None,
            referrer: None,
            eligible: Some(false),
            eligibility_reason: None,
            eligibility_source: None,
            inpatient: None,
            responsible_authority: None,
            out_of_area: None,
        };
        assert!(
            r.validate()
                .unwrap_err()
                .to_string()
                .contains("reason it is ineligible")
        );
    }

    #[test]
    fn outcome_before_the_issue_is_refused() {
        let issue = Issue {
            case_id: CaseId::new_random(),
            category: IssueCategory::Leave,
            summary: "Section 17 leave to see family".into(),
            opened_on: d("2026-05-10"),
            outcome: Some(IssueOutcome {
                kind: OutcomeKind::ViewPut,
                on: d("2026-05-09"),
                note: None,
            }),
        };
        assert!(matches!(
            issue.validate(),
            Err(ValidationError::DatesOutOfOrder { .. })
        ));
    }

    #[test]
    fn long_open_and_quiet_cases_are_flagged_by_policy() {
        let policy = FlagPolicy::default();
        let today = d("2026-11-25");
        assert!(case_flags(d("2026-11-01"), Some(d("2026-11-20")), today, policy).is_empty());
        let flags = case_flags(d("2026-05-01"), Some(d("2026-10-01")), today, policy);
        assert_eq!(
            flags.iter().map(|f| f.kind).collect::<Vec<_>>(),
            [CaseFlagKind::OpenLong, CaseFlagKind::NoRecentActivity]
        );
        assert_eq!(flags[1].text, "Nothing recorded for 55 days");
        // Exactly at the limit is not yet flagged.
        assert!(case_flags(d("2026-10-28"), None, today, policy).is_empty());
        let never = case_flags(d("2026-10-27"), None, today, policy);
        assert_eq!(
            never[0].text,
            "Nothing recorded since it opened 29 days ago"
        );
    }
}
