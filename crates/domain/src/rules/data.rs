//! The rules data files: what they hold, how they are read and checked, and which rule is in
//! force on a date.

use super::RulesError;
use super::period::OfficeCalendar;
use crate::StatusCode;
use crate::legal::coded_enum;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

pub(crate) const SHIPPED_RULES: &str = include_str!("../../rules/mha-rules.toml");
pub(crate) const SHIPPED_BANK_HOLIDAYS: &str = include_str!("../../rules/bank-holidays.toml");

coded_enum! {
    /// Where the patient is: the Act's IMHA provisions differ between England and Wales.
    Jurisdiction, "jurisdiction" {
        England => "england", "England";
        Wales => "wales", "Wales";
    }
}

coded_enum! {
    /// Treatment under consideration that makes any patient a qualifying patient.
    Treatment, "treatment" {
        S57 => "s57", "Treatment to which section 57 applies";
        S58a => "s58a", "Treatment to which section 58A applies";
    }
}

/// When a rule is in force, and where.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct InForce {
    pub source: String,
    pub jurisdictions: Vec<Jurisdiction>,
    #[serde(default)]
    pub effective_from: Option<NaiveDate>,
    #[serde(default)]
    pub effective_to: Option<NaiveDate>,
    /// The key of a provision that commences by regulations.
    #[serde(default)]
    pub commencement: Option<String>,
    /// The key of a provision whose commencement ends this rule (the 2025 Act rule replacing
    /// it is in force from the same day).
    #[serde(default)]
    pub effective_to_provision: Option<String>,
    /// Also applies to a status that began before the rule came into force (a transitional
    /// provision says so): the status's start date does not keep it out.
    #[serde(default)]
    pub applies_to_existing: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Provision {
    pub key: String,
    pub title: String,
    pub source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub(crate) enum EligibilityRule {
    DetainedExcept {
        except: Vec<StatusCode>,
        reason: String,
        excluded_reason: String,
        #[serde(flatten)]
        when: InForce,
    },
    Status {
        statuses: Vec<StatusCode>,
        reason: String,
        #[serde(flatten)]
        when: InForce,
    },
    Considering {
        treatment: Treatment,
        #[serde(default)]
        under_age: Option<u32>,
        reason: String,
        #[serde(flatten)]
        when: InForce,
    },
    InformalInpatient {
        reason: String,
        /// The answer for an informal patient known not to be an in-patient.
        out_patient_reason: String,
        #[serde(flatten)]
        when: InForce,
    },
}

impl EligibilityRule {
    pub fn when(&self) -> &InForce {
        match self {
            EligibilityRule::DetainedExcept { when, .. }
            | EligibilityRule::Status { when, .. }
            | EligibilityRule::Considering { when, .. }
            | EligibilityRule::InformalInpatient { when, .. } => when,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct DurationRule {
    pub statuses: Vec<StatusCode>,
    #[serde(default)]
    pub periods_months: Vec<u32>,
    #[serde(default)]
    pub days: Option<u32>,
    #[serde(default)]
    pub renew_days: Option<u32>,
    #[serde(default)]
    pub max_days: Option<u32>,
    #[serde(default)]
    pub max_months: Option<u32>,
    #[serde(default)]
    pub hours: Option<u32>,
    #[serde(flatten)]
    pub when: InForce,
}

/// Who may apply to the tribunal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum ApplicantRole {
    Patient,
    NearestRelative,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct TribunalRule {
    pub statuses: Vec<StatusCode>,
    pub applicants: Vec<ApplicantRole>,
    #[serde(default)]
    pub days: Option<u32>,
    #[serde(default)]
    pub next_business_day: bool,
    #[serde(default)]
    pub periods_months: Vec<u32>,
    #[serde(default)]
    pub follow_duration: bool,
    /// Every period is measured from the start (s. 70: "the expiration of 12 months beginning
    /// with the date of the relevant hospital order"), not chained from the previous period's
    /// end: the k-th period ends where the months so far, counted from the start, end.
    #[serde(default)]
    pub from_start: bool,
    #[serde(default)]
    pub skip: usize,
    #[serde(flatten)]
    pub when: InForce,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ReferenceRule {
    pub statuses: Vec<StatusCode>,
    pub by: String,
    #[serde(default)]
    pub first_months: Option<u32>,
    #[serde(default)]
    pub no_hearing_months: Option<u32>,
    #[serde(default)]
    pub under_18_months: Option<u32>,
    /// The age below which `under_18_months` applies (16 before 3 November 2008).
    #[serde(default = "eighteen")]
    pub under_age: u32,
    #[serde(default)]
    pub on_renewal: bool,
    /// A reference on expiry of each period (the last length repeating), measured from the
    /// applicable day, unless an application, reference or hearing fell in that period.
    #[serde(default)]
    pub periods_months: Vec<u32>,
    /// Periods count from the day the status began (a CTO's: new s. 68(5)(c)), not from the
    /// applicable day of the original admission.
    #[serde(default)]
    pub from_status_start: bool,
    /// What excuses a periodic reference: an application or reference made in the period
    /// (s. 68(3)), or the tribunal having considered the case in it (s. 75(2D)).
    #[serde(default)]
    pub unless: Unless,
    #[serde(flatten)]
    pub when: InForce,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Unless {
    #[default]
    Applied,
    Considered,
}

fn eighteen() -> u32 {
    18
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ManagersHearingRule {
    pub statuses: Vec<StatusCode>,
    pub on_renewal: bool,
    #[serde(flatten)]
    pub when: InForce,
}

/// A deadline that an event in the history starts.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct EventRule {
    pub event: crate::legal::LegalEventKindCode,
    pub after: String,
    pub statuses: Vec<StatusCode>,
    #[serde(default)]
    pub applicant: Option<ApplicantRole>,
    #[serde(default)]
    pub by: Option<String>,
    /// How reminders name the applicant (default: the nearest relative, or the nominated
    /// person once that commences; "The patient" for the patient's own window).
    #[serde(default)]
    pub who: Option<String>,
    #[serde(default)]
    pub days: Option<u32>,
    #[serde(default)]
    pub months: Option<u32>,
    /// "and in any subsequent period of N months": the window comes round again, each one
    /// measured from the day of the event (s. 66(2)(g)).
    #[serde(default)]
    pub repeat: bool,
    /// "as soon as possible after" the event: due that day, and shown until a reference is
    /// recorded on or after it (s. 68(7)).
    #[serde(default)]
    pub asap: bool,
    #[serde(flatten)]
    pub when: InForce,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct InformRule {
    pub statuses: Vec<StatusCode>,
    pub who: String,
    #[serde(flatten)]
    pub when: InForce,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RulesFile {
    pub format: String,
    pub version: u32,
    #[serde(default, rename = "provision")]
    pub provisions: Vec<Provision>,
    #[serde(default)]
    pub eligibility: Vec<EligibilityRule>,
    #[serde(default)]
    pub duration: Vec<DurationRule>,
    #[serde(default)]
    pub tribunal: Vec<TribunalRule>,
    #[serde(default)]
    pub reference: Vec<ReferenceRule>,
    #[serde(default)]
    pub managers_hearing: Vec<ManagersHearingRule>,
    #[serde(default)]
    pub inform: Vec<InformRule>,
    #[serde(default)]
    pub event: Vec<EventRule>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct BankHolidayFile {
    format: String,
    version: u32,
    #[allow(dead_code)]
    jurisdiction: String,
    year: Vec<BankHolidayYear>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct BankHolidayYear {
    year: i32,
    days: Vec<BankHoliday>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BankHoliday {
    pub on: DateValue,
    #[allow(dead_code)]
    pub name: String,
}

/// A date written either as TOML's own date (`2027-04-01`) or as text (`"2027-04-01"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum DateValue {
    Toml(toml::value::Datetime),
    Text(String),
}

impl DateValue {
    fn to_date(&self, file: &'static str, what: &str) -> Result<NaiveDate, RulesError> {
        let text = match self {
            DateValue::Toml(dt) => dt.to_string(),
            DateValue::Text(s) => s.clone(),
        };
        text.trim().parse().map_err(|_| RulesError::File {
            file,
            reason: format!("{what}: '{text}' is not a date; write it as YYYY-MM-DD"),
        })
    }
}

/// What an organisation may set without a new build: commencement dates, and bank holidays
/// proclaimed after this build.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrganisationFile {
    /// Where the organisation works: the default when a command does not say.
    #[serde(default)]
    jurisdiction: Option<Jurisdiction>,
    #[serde(default)]
    commencement: BTreeMap<String, DateValue>,
    #[serde(default)]
    bank_holiday: Vec<BankHoliday>,
}

/// The loaded rules: the shipped data plus an organisation's commencement dates.
#[derive(Debug, Clone)]
pub struct Rules {
    pub(crate) file: RulesFile,
    pub(crate) commencement: BTreeMap<String, NaiveDate>,
    pub(crate) calendar: OfficeCalendar,
    jurisdiction: Jurisdiction,
}

fn parse_toml<T: for<'de> Deserialize<'de>>(
    text: &str,
    file: &'static str,
) -> Result<T, RulesError> {
    toml::from_str(text).map_err(|e| RulesError::File {
        file,
        reason: e.message().to_owned(),
    })
}

impl Rules {
    /// The rules this build ships, with no 2025 Act provision in force.
    pub fn shipped() -> Result<Rules, RulesError> {
        Rules::from_texts(SHIPPED_RULES, SHIPPED_BANK_HOLIDAYS)
    }

    /// Rules from the texts of a rules file and a bank holidays file, checked as the shipped
    /// ones are ([`Rules::shipped`] is this with the files in the build). Public for the tests
    /// and the fuzz targets that feed it damaged copies of the shipped files.
    pub fn from_texts(rules: &str, holidays: &str) -> Result<Rules, RulesError> {
        let file: RulesFile = parse_toml(rules, "rules file")?;
        if file.format != "wardside-rules" || file.version != 1 {
            return Err(RulesError::File {
                file: "rules file",
                reason: format!(
                    "format '{}' version {} is not one this Wardside reads; update Wardside",
                    file.format, file.version
                ),
            });
        }
        let known: BTreeSet<&str> = file.provisions.iter().map(|p| p.key.as_str()).collect();
        let whens = file
            .eligibility
            .iter()
            .map(EligibilityRule::when)
            .chain(file.duration.iter().map(|r| &r.when))
            .chain(file.tribunal.iter().map(|r| &r.when))
            .chain(file.reference.iter().map(|r| &r.when))
            .chain(file.managers_hearing.iter().map(|r| &r.when))
            .chain(file.inform.iter().map(|r| &r.when))
            .chain(file.event.iter().map(|r| &r.when));
        for when in whens {
            if let Some(key) = &when.effective_to_provision
                && !known.contains(key.as_str())
            {
                return Err(RulesError::File {
                    file: "rules file",
                    reason: format!("a rule names the unknown provision '{key}'"),
                });
            }
            match (&when.commencement, when.effective_from) {
                (Some(key), _) if !known.contains(key.as_str()) => {
                    return Err(RulesError::File {
                        file: "rules file",
                        reason: format!("a rule names the unknown provision '{key}'"),
                    });
                }
                (None, None) => {
                    return Err(RulesError::File {
                        file: "rules file",
                        reason: format!(
                            "the rule from '{}' has neither effective_from nor commencement",
                            when.source
                        ),
                    });
                }
                _ => {}
            }
        }
        // A period of 0 months ends the day before it begins: the periods after it would begin
        // on the same day for ever.
        let lengths = file
            .duration
            .iter()
            .map(|r| (&r.when, &r.periods_months))
            .chain(file.tribunal.iter().map(|r| (&r.when, &r.periods_months)))
            .chain(file.reference.iter().map(|r| (&r.when, &r.periods_months)));
        for (when, months) in lengths {
            if months.contains(&0) {
                return Err(RulesError::File {
                    file: "rules file",
                    reason: format!(
                        "the rule from '{}' has a period of 0 months; periods_months are 1 or more",
                        when.source
                    ),
                });
            }
        }
        let holidays: BankHolidayFile = parse_toml(holidays, "bank holidays file")?;
        if holidays.format != "wardside-bank-holidays" || holidays.version != 1 {
            return Err(RulesError::File {
                file: "bank holidays file",
                reason: "unknown format or version; update Wardside".into(),
            });
        }
        let mut calendar = OfficeCalendar::default();
        for y in &holidays.year {
            for day in &y.days {
                let on = day.on.to_date("bank holidays file", "bank holiday")?;
                if chrono::Datelike::year(&on) != y.year {
                    return Err(RulesError::File {
                        file: "bank holidays file",
                        reason: format!("{on} is listed under {}", y.year),
                    });
                }
                calendar.bank_holidays.insert(on);
            }
        }
        Ok(Rules {
            file,
            commencement: BTreeMap::new(),
            calendar,
            jurisdiction: Jurisdiction::England,
        })
    }

    /// Apply an organisation's file: `[commencement]` dates for the provisions listed in the
    /// rules, and extra `[[bank_holiday]]` days. An unknown provision is an error, so a typo
    /// cannot silently leave a provision out of force.
    pub fn with_organisation_file(mut self, text: &str) -> Result<Rules, RulesError> {
        let org: OrganisationFile = parse_toml(text, "commencement file")?;
        if let Some(j) = org.jurisdiction {
            self.jurisdiction = j;
        }
        for (key, date) in &org.commencement {
            if !self.file.provisions.iter().any(|p| &p.key == key) {
                let known: Vec<&str> = self
                    .file
                    .provisions
                    .iter()
                    .map(|p| p.key.as_str())
                    .collect();
                return Err(RulesError::File {
                    file: "commencement file",
                    reason: format!(
                        "unknown provision '{key}'; the provisions are: {}",
                        known.join(", ")
                    ),
                });
            }
            self.commencement
                .insert(key.clone(), date.to_date("commencement file", key)?);
        }
        for day in &org.bank_holiday {
            self.calendar
                .bank_holidays
                .insert(day.on.to_date("commencement file", "bank_holiday")?);
        }
        Ok(self)
    }

    /// The provisions that commence by regulations, with the date set for each (if any).
    pub fn provisions(&self) -> Vec<ProvisionStatus> {
        self.file
            .provisions
            .iter()
            .map(|p| ProvisionStatus {
                key: p.key.clone(),
                title: p.title.clone(),
                source: p.source.clone(),
                commences: self.commencement.get(&p.key).copied(),
            })
            .collect()
    }

    /// The day a rule came into force, if it is in force on `on` in `j`.
    pub(crate) fn in_force(
        &self,
        when: &InForce,
        j: Jurisdiction,
        on: NaiveDate,
    ) -> Option<NaiveDate> {
        if !when.jurisdictions.contains(&j) {
            return None;
        }
        let from = match &when.commencement {
            Some(key) => *self.commencement.get(key)?,
            None => when.effective_from?,
        };
        let before_end = when.effective_to.is_none_or(|to| on < to)
            && when
                .effective_to_provision
                .as_ref()
                .is_none_or(|key| !self.provision_in_force(key, on));
        ((from <= on || when.applies_to_existing) && before_end).then_some(from)
    }

    /// Of the rules for `status` in force on `on`, the one that came into force last.
    pub(crate) fn latest<'r, R>(
        &self,
        rules: &'r [R],
        when: impl Fn(&R) -> &InForce,
        applies: impl Fn(&R) -> bool,
        j: Jurisdiction,
        on: NaiveDate,
    ) -> Option<&'r R> {
        rules
            .iter()
            .filter(|r| applies(r))
            .filter_map(|r| self.in_force(when(r), j, on).map(|from| (from, r)))
            .max_by_key(|(from, _)| *from)
            .map(|(_, r)| r)
    }

    pub(crate) fn provision_in_force(&self, key: &str, on: NaiveDate) -> bool {
        self.commencement.get(key).is_some_and(|d| *d <= on)
    }

    /// The organisation's jurisdiction (England unless its file says otherwise).
    pub fn jurisdiction(&self) -> Jurisdiction {
        self.jurisdiction
    }

    pub fn calendar(&self) -> &OfficeCalendar {
        &self.calendar
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ProvisionStatus {
    pub key: String,
    pub title: String,
    pub source: String,
    pub commences: Option<NaiveDate>,
}
