//! The person an advocate works with (the patient), their equality monitoring, and the
//! nearest relative or nominated person.

use crate::legal::coded_enum;
use crate::{ClientId, NhsNumber, TeamId, Validate, ValidationError, optional_text, require_text};
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
    /// The hospital's own patient number (often called the "hospital number" or MRN): what the
    /// ward's papers are filed under. Free text, as trusts write it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hospital_number: Option<String>,
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
    /// The team of the organisation that holds this person's record: every change about the
    /// person, their cases and their notes is sealed for that team and reaches only its
    /// members. `None`: the team of the laptop that made the record (an organisation with one
    /// team never needs another).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<TeamId>,
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
            hospital_number: None,
            hospital: None,
            ward: None,
            first_language: None,
            interpreter_needed: false,
            objects_to_relative_being_informed: false,
            equality: EqualityMonitoring::default(),
            team: None,
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

    /// Under 18 on `on`: the age-specific safeguards apply (s131A, an age-appropriate
    /// environment; s58A, ECT for under-18s needs a SOAD even with consent). `false` when the
    /// date of birth is not recorded.
    pub fn is_under_18_on(&self, on: NaiveDate) -> bool {
        self.dob
            .and_then(|dob| age_on(dob, on))
            .is_some_and(|age| age < 18)
    }

    /// What in a search matched this person, if anything: their name (every word of the query
    /// found in it, ignoring case and accents), their NHS number or their hospital number
    /// (spaces and dashes ignored).
    pub fn matches(&self, query: &PersonQuery) -> Option<MatchedOn> {
        if query.compact.len() >= PersonQuery::MIN_NUMBER {
            if self
                .nhs_number
                .as_ref()
                .is_some_and(|n| n.as_str().contains(&query.compact))
            {
                return Some(MatchedOn::NhsNumber);
            }
            if self
                .hospital_number
                .as_deref()
                .is_some_and(|h| compact(h).contains(&query.compact))
            {
                return Some(MatchedOn::HospitalNumber);
            }
        }
        let name = fold(&self.name);
        (!query.words.is_empty() && query.words.iter().all(|w| name.contains(w.as_str())))
            .then_some(MatchedOn::Name)
    }

    /// Whether `other` is likely the same person as this one: the same NHS number, or the same
    /// name (ignoring case, accents and spacing) and the same date of birth.
    pub fn likely_same_person(&self, other: &Client) -> Option<DuplicateReason> {
        if let (Some(a), Some(b)) = (&self.nhs_number, &other.nhs_number)
            && a == b
        {
            return Some(DuplicateReason::SameNhsNumber);
        }
        let same_name = fold(&self.name)
            .split_whitespace()
            .eq(fold(&other.name).split_whitespace());
        (same_name && self.dob.is_some() && self.dob == other.dob)
            .then_some(DuplicateReason::SameNameAndDateOfBirth)
    }
}

/// Which of a person's identifiers a search matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatchedOn {
    Name,
    NhsNumber,
    HospitalNumber,
}

/// Why two records are probably the same person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DuplicateReason {
    SameNhsNumber,
    SameNameAndDateOfBirth,
}

/// What a person typed to find someone, prepared once: the words folded for name matching and
/// the same text without spaces or dashes for matching numbers.
#[derive(Clone, PartialEq, Eq)]
pub struct PersonQuery {
    words: Vec<String>,
    compact: String,
}

// The query is often a name: never print it.
impl fmt::Debug for PersonQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PersonQuery(***)")
    }
}

impl PersonQuery {
    /// Fewer characters than this never match a number (any 2 digits are in most numbers).
    pub const MIN_NUMBER: usize = 3;

    /// `None` when there is nothing to look for.
    pub fn parse(input: &str) -> Option<PersonQuery> {
        let words: Vec<String> = fold(input).split_whitespace().map(str::to_owned).collect();
        (!words.is_empty()).then(|| PersonQuery {
            words,
            compact: compact(input),
        })
    }
}

/// Text for case- and accent-insensitive comparison: lower case, accents dropped, and the
/// letters that carry no separable accent spelt plainly ("Łucja Wiśniewska" → "lucja wisniewska",
/// "Søren" → "soren", "Straße" → "strasse"). Other scripts are kept as they are.
pub fn fold(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    use unicode_normalization::char::is_combining_mark;
    let mut out = String::with_capacity(s.len());
    for c in s.nfd().filter(|c| !is_combining_mark(*c)) {
        match c {
            'Ł' | 'ł' => out.push('l'),
            'Ø' | 'ø' => out.push('o'),
            'Đ' | 'đ' | 'Ð' | 'ð' => out.push('d'),
            'Ħ' | 'ħ' => out.push('h'),
            'ı' => out.push('i'),
            'ß' => out.push_str("ss"),
            'Æ' | 'æ' => out.push_str("ae"),
            'Œ' | 'œ' => out.push_str("oe"),
            'Þ' | 'þ' => out.push_str("th"),
            '\u{2019}' | '`' => out.push('\''),
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// An identifier as typed, without spaces or dashes, in upper case ("943 476 5919" →
/// "9434765919", "rx1-234" → "RX1234").
fn compact(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

impl Validate for Client {
    fn check_dates(&self, today: NaiveDate) -> Result<(), ValidationError> {
        match self.dob {
            Some(dob) => crate::happened(dob, today, "date of birth"),
            None => Ok(()),
        }
    }

    fn validate(&self) -> Result<(), ValidationError> {
        require_text(&self.name, "name", "client")?;
        optional_text(&self.hospital_number, "hospital number", "client")?;
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
    crate::happened(dob, today, "date of birth")
}

coded_enum! {
    /// NHS Data Dictionary ETHNIC CATEGORY (2001 census based; 2021 categories map onto these).
    /// "Not stated" (Z) is the person's answer when asked and they chose not to say: nobody is
    /// made to answer. "Not known" (99) is the default until someone asks.
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
    /// Never asked: "not known" (99), kept apart from "not stated" (Z), an answer (issue 16).
    fn default() -> Self {
        EthnicCategory::NotKnown
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
        assert_eq!(EthnicCategory::default(), EthnicCategory::NotKnown);
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
    fn under_18_is_worked_out_from_the_date_of_birth_on_the_day() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let mut c = Client::named("Aled Hughes");
        assert!(
            !c.is_under_18_on(d("2026-11-25")),
            "no date of birth: no marker"
        );
        c.dob = Some(d("2008-11-26"));
        assert!(
            c.is_under_18_on(d("2026-11-25")),
            "17 the day before the birthday"
        );
        assert!(!c.is_under_18_on(d("2026-11-26")), "18 on the birthday");
    }

    #[test]
    fn name_search_ignores_case_and_accents_and_finds_part_of_a_name() {
        let c = Client::named("Łucja Wiśniewska");
        let q = |s: &str| PersonQuery::parse(s).unwrap();
        assert_eq!(c.matches(&q("lucja")), Some(MatchedOn::Name));
        assert_eq!(c.matches(&q("WISN")), Some(MatchedOn::Name));
        assert_eq!(c.matches(&q("wiśniewska łucja")), Some(MatchedOn::Name));
        assert_eq!(c.matches(&q("lucja nowak")), None, "every word must match");
        assert_eq!(fold("Søren Straße O’Neill"), "soren strasse o'neill");
        assert_eq!(fold("محمد 李"), "محمد 李", "other scripts are kept");
        assert!(PersonQuery::parse("   ").is_none());
    }

    #[test]
    fn nhs_and_hospital_numbers_match_with_or_without_spaces() {
        let mut c = Client::named("Zofia Nowak");
        c.nhs_number = Some("9434765919".parse().unwrap());
        c.hospital_number = Some("RX1 234567".into());
        let q = |s: &str| PersonQuery::parse(s).unwrap();
        assert_eq!(c.matches(&q("943 476 5919")), Some(MatchedOn::NhsNumber));
        assert_eq!(c.matches(&q("9434765919")), Some(MatchedOn::NhsNumber));
        assert_eq!(c.matches(&q("rx1234567")), Some(MatchedOn::HospitalNumber));
        assert_eq!(c.matches(&q("234 567")), Some(MatchedOn::HospitalNumber));
        assert_eq!(
            c.matches(&q("94")),
            None,
            "two digits are too few to mean a number"
        );
        assert!(!format!("{:?}", q("Zofia")).contains("Zofia"));
    }

    #[test]
    fn a_likely_duplicate_has_the_same_nhs_number_or_the_same_name_and_birthday() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let mut a = Client::named("Siân Ap Dafydd");
        a.dob = Some(d("1990-04-01"));
        let mut b = Client::named("sian  ap dafydd");
        assert_eq!(
            a.likely_same_person(&b),
            None,
            "no date of birth to compare"
        );
        b.dob = Some(d("1990-04-01"));
        assert_eq!(
            a.likely_same_person(&b),
            Some(DuplicateReason::SameNameAndDateOfBirth)
        );
        b.dob = Some(d("1991-04-01"));
        assert_eq!(a.likely_same_person(&b), None);
        let mut c = Client::named("Someone Else");
        c.nhs_number = Some("9434765919".parse().unwrap());
        a.nhs_number = Some("943 476 5919".parse().unwrap());
        assert_eq!(
            a.likely_same_person(&c),
            Some(DuplicateReason::SameNhsNumber)
        );
    }

    #[test]
    fn old_records_without_a_hospital_number_still_parse() {
        let c: Client = serde_json::from_str(r#"{"name":"Ann Lee"}"#).unwrap();
        assert_eq!(c.hospital_number, None);
        assert!(
            !serde_json::to_string(&c)
                .unwrap()
                .contains("hospital_number")
        );
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
