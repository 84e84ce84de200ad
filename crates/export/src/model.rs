//! What goes on the page: the documents built from a [`ClientRecord`], worded for their
//! reader, as plain data the template lays out. Every rule about what a document contains —
//! which items the person's own copy leaves out, what a hearing summary gathers — is here.

use crate::plain;
use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;
use wardside_domain::rules::Reminder;
use wardside_domain::*;
use wardside_store::export::{CaseRecord, ClientRecord};

pub use crate::hearing::hearing_summary;
pub use crate::timeline::kind_fields;
use crate::timeline::timeline_section;

/// Who the document is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The advocacy service: everything, in the service's words.
    Service,
    /// The person themselves: plain language, withheld items left out with a marker.
    Person,
}

/// Who made the export, and when (UK local time).
#[derive(Debug, Clone)]
pub struct Generated {
    pub by: String,
    pub at: NaiveDateTime,
}

/// A document, ready for the template (`templates/document.typ`).
#[derive(Debug, Clone, Serialize)]
pub struct Doc {
    pub title: String,
    pub author: String,
    pub keywords: Vec<String>,
    pub date: DocDate,
    pub confidential: String,
    pub header_right: String,
    pub generated: String,
    pub kind_label: String,
    pub heading: String,
    pub intro: Option<String>,
    pub cover: Vec<(String, String)>,
    pub contents: bool,
    pub contents_title: String,
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, Copy, Serialize)]
/// UTC.
pub struct DocDate {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Section {
    pub heading: String,
    pub intro: Option<String>,
    pub new_page: bool,
    pub blocks: Vec<Block>,
}

/// What a table cell or a labelled value holds: a line of text, or a list typed one item a
/// line (the points raised at a ward round), printed one under the other.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Cell {
    Text(String),
    Lines(Vec<String>),
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.into())
    }
}

/// One line: the items of a list joined with "; " (for plain-text uses; the PDF lists them).
impl std::fmt::Display for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cell::Text(s) => f.write_str(s),
            Cell::Lines(items) => f.write_str(&items.join("; ")),
        }
    }
}

impl Cell {
    pub(crate) fn is_blank(&self) -> bool {
        match self {
            Cell::Text(s) => s.trim().is_empty(),
            Cell::Lines(items) => items.iter().all(|i| i.trim().is_empty()),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Block {
    Paragraph {
        text: String,
    },
    Facts {
        pairs: Vec<(String, Cell)>,
    },
    Table {
        columns: Vec<String>,
        /// Relative column widths.
        widths: Vec<f64>,
        rows: Vec<Vec<Cell>>,
    },
    Entry {
        heading: String,
        /// A warning shown with the entry (on the service's copy: kept from the person).
        flag: Option<String>,
        meta: Vec<(String, Cell)>,
        body: String,
        empty: String,
        history: Option<String>,
    },
    Withheld {
        title: String,
        text: String,
    },
    Empty {
        text: String,
    },
    List {
        items: Vec<String>,
    },
}

pub fn date(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

pub fn date_time(d: NaiveDateTime) -> String {
    d.format("%-d %B %Y, %H:%M").to_string()
}

/// A date that stays on one line in a narrow table column.
pub(crate) fn cell_date(d: NaiveDate) -> String {
    date(d).replace(' ', "\u{a0}")
}

/// "9434765919" → "943 476 5919", the way NHS numbers are printed.
pub fn nhs_spaced(digits: &str) -> String {
    let d: Vec<char> = digits.chars().filter(char::is_ascii_digit).collect();
    if d.len() != 10 {
        return digits.to_string();
    }
    format!(
        "{} {} {}",
        d[..3].iter().collect::<String>(),
        d[3..6].iter().collect::<String>(),
        d[6..].iter().collect::<String>()
    )
}

pub(crate) fn opt_date(d: Option<NaiveDate>) -> String {
    d.map(date).unwrap_or_default()
}

/// "Jo Anne Smith" → "J.A.S.": what the header shows instead of the name.
pub fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().find(|c| c.is_alphanumeric()))
        .flat_map(|c| c.to_uppercase().chain(['.']))
        .collect()
}

/// The document's date for its metadata, which PDF readers take as UTC.
fn doc_date(at: NaiveDateTime) -> DocDate {
    use chrono::{Datelike, Timelike};
    let at = wardside_domain::rules::period::uk_time_to_utc(at);
    DocDate {
        year: at.year(),
        month: at.month(),
        day: at.day(),
        hour: at.hour(),
        minute: at.minute(),
    }
}

/// The wording that differs between the service's file and the person's copy.
pub(crate) struct Words {
    pub(crate) audience: Audience,
}

impl Words {
    pub(crate) fn pick<'a>(&self, service: &'a str, person: &'a str) -> &'a str {
        match self.audience {
            Audience::Service => service,
            Audience::Person => person,
        }
    }
}

pub(crate) fn base(
    record: &ClientRecord,
    generated: &Generated,
    kind_label: &str,
    heading: String,
) -> Doc {
    let name = &record.client.record.name;
    let initials = initials(name);
    Doc {
        title: format!("{kind_label} – {initials}"),
        author: generated.by.clone(),
        keywords: vec!["Wardside".into(), "confidential".into()],
        date: doc_date(generated.at),
        confidential: "Confidential".into(),
        header_right: initials,
        generated: format!(
            "Generated by {} on {} with Wardside",
            generated.by,
            date_time(generated.at)
        ),
        kind_label: kind_label.into(),
        heading,
        intro: None,
        cover: Vec::new(),
        contents: false,
        contents_title: "Contents".into(),
        sections: Vec::new(),
    }
}

pub(crate) fn cover(record: &ClientRecord, w: &Words) -> Vec<(String, String)> {
    let c = &record.client.record;
    let mut out = vec![(w.pick("Name", "Your name").to_string(), c.name.clone())];
    if let Some(dob) = c.dob {
        out.push(("Date of birth".into(), date(dob)));
    }
    if let Some(nhs) = &c.nhs_number {
        out.push(("NHS number".into(), nhs_spaced(nhs.as_str())));
    }
    out.push((
        w.pick("Legal status", "Your legal status").to_string(),
        match &record.current_status {
            Some(s) => format!("{}, since {}", s.label, date(s.since)),
            None => w
                .pick(
                    "None recorded (informal)",
                    "Not detained (informal), as far as we know",
                )
                .to_string(),
        },
    ));
    let place = [c.hospital.as_deref(), c.ward.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
    if !place.is_empty() {
        out.push(("Hospital and ward".into(), place));
    }
    if let Some(lang) = &c.first_language {
        let interp = if c.interpreter_needed {
            " (interpreter needed)"
        } else {
            ""
        };
        out.push(("First language".into(), format!("{lang}{interp}")));
    }
    for k in &record.cases {
        let advocate =
            advocate_name(record, k).map_or_else(|| "not recorded".to_string(), str::to_string);
        let dates = match &k.case.record.closed {
            Some(c) => format!("{} to {}", date(k.case.record.opened_on), date(c.on)),
            None => format!("{} – open", date(k.case.record.opened_on)),
        };
        let reference = crate::filename::short_reference(k.case.id);
        out.push((
            w.pick("Case", "Support from us").to_string(),
            match w.audience {
                Audience::Service => {
                    format!("{dates}; advocate {advocate}; reference {reference}")
                }
                Audience::Person => {
                    format!("{dates}; your advocate: {advocate}; reference {reference}")
                }
            },
        ));
    }
    out
}

/// Who is the case's advocate: the one assigned to it, or else the advocate who opened it (in
/// a store of one's own, the store's own advocate, who has no advocate record to assign).
pub fn advocate_name<'a>(record: &'a ClientRecord, k: &'a CaseRecord) -> Option<&'a str> {
    if let Some(a) = &k.advocate {
        return Some(&a.record.name);
    }
    let id = k.case.id.to_string();
    record
        .access_log
        .iter()
        .find(|e| e.entity == "case" && e.action == "create" && e.entity_id.as_deref() == Some(&id))
        .map(|e| e.actor.as_str())
        .filter(|name| !name.trim().is_empty())
}

pub(crate) fn table<C: Into<Cell>>(
    columns: &[&str],
    widths: &[f64],
    rows: Vec<Vec<C>>,
    empty: &str,
) -> Block {
    if rows.is_empty() {
        return Block::Empty { text: empty.into() };
    }
    Block::Table {
        columns: columns.iter().map(|c| c.to_string()).collect(),
        widths: widths.to_vec(),
        rows: rows
            .into_iter()
            .map(|r| r.into_iter().map(Into::into).collect())
            .collect(),
    }
}

fn legal_event_text(e: &LegalEvent) -> String {
    let what = match &e.kind {
        LegalEventKind::StatusStarted { status } => format!("{} began", status.label()),
        LegalEventKind::CtoRevoked { status } => format!(
            "Community treatment order revoked (s17F): detained again under {}",
            status.label()
        ),
        LegalEventKind::TribunalApplication { applicant } => format!(
            "Application to the tribunal by {}",
            match applicant {
                legal::Applicant::Patient => "the patient",
                legal::Applicant::NearestRelative => "the nearest relative",
                legal::Applicant::NominatedPerson => "the nominated person",
            }
        ),
        LegalEventKind::TribunalHearing { outcome: Some(o) } => {
            format!("Tribunal hearing held: {o}")
        }
        LegalEventKind::ManagersHearing { outcome: Some(o) } => {
            format!("Hospital managers’ hearing held: {o}")
        }
        other => other.code().label().to_string(),
    };
    match &e.note {
        Some(n) => format!("{what}. {n}"),
        None => what,
    }
}

fn legal_section(record: &ClientRecord, w: &Words) -> Section {
    let rows = record
        .legal_history
        .iter()
        .map(|e| {
            vec![
                cell_date(e.record.on),
                match w.audience {
                    Audience::Service => legal_event_text(&e.record),
                    Audience::Person => plain::legal_event_for_person(&e.record),
                },
            ]
        })
        .collect();
    Section {
        heading: w
            .pick("Legal status history", "Your legal status over time")
            .into(),
        intro: None,
        new_page: false,
        blocks: vec![table(
            &["Date", "What happened"],
            &[1.5, 4.0],
            rows,
            "No legal status recorded.",
        )],
    }
}

fn reminders_section(reminders: &[Reminder], w: &Words) -> Section {
    // Dates only, never "in 3 days": paper is read long after it is printed. The person's
    // copy says what each date means for them, without the Act's sections or case law.
    let block = match w.audience {
        Audience::Service => table(
            &["Date", "What", "Source"],
            &[1.5, 3.0, 2.0],
            reminders
                .iter()
                .map(|r| {
                    vec![
                        cell_date(r.due),
                        plain::reminder_on_paper(r),
                        r.source.clone(),
                    ]
                })
                .collect(),
            "No dates coming up.",
        ),
        Audience::Person => table(
            &["Date", "What this means"],
            &[1.5, 5.0],
            reminders
                .iter()
                .map(|r| vec![cell_date(r.due), plain::reminder_for_person(r)])
                .collect(),
            "No dates coming up.",
        ),
    };
    Section {
        heading: w.pick("Reminders", "Important dates").into(),
        intro: Some(
            w.pick(
                "Worked out from the legal status history on the day of this export: guidance, to be checked.",
                "Dates worked out from your legal status when this copy was made. Please check them with your advocate or solicitor.",
            )
            .into(),
        ),
        new_page: false,
        blocks: vec![block],
    }
}

fn issue_rows(k: &CaseRecord, w: &Words) -> Vec<Vec<String>> {
    k.issues
        .iter()
        .map(|i| {
            let i = &i.record;
            let outcome = match &i.outcome {
                Some(o) => {
                    let note = o
                        .note
                        .as_deref()
                        .map(|n| format!(": {n}"))
                        .unwrap_or_default();
                    format!("{} ({}){note}", o.kind.label(), date(o.on))
                }
                None => "Open".into(),
            };
            vec![
                cell_date(i.opened_on),
                match w.audience {
                    Audience::Service => i.category.label().into(),
                    Audience::Person => plain::issue_category_for_person(i.category),
                },
                i.summary.clone(),
                outcome,
            ]
        })
        .collect()
}

/// Every issue on the record's cases, with its outcome.
pub(crate) fn issues_table(record: &ClientRecord, w: &Words) -> Block {
    table(
        &["Raised", "About", "Issue", "Outcome"],
        &[1.5, 1.5, 3.0, 2.0],
        record.cases.iter().flat_map(|k| issue_rows(k, w)).collect(),
        "No issues recorded.",
    )
}

fn issues_section(record: &ClientRecord, w: &Words) -> Section {
    Section {
        heading: w
            .pick("Issues and outcomes", "What you asked us to help with")
            .into(),
        intro: None,
        new_page: false,
        blocks: vec![issues_table(record, w)],
    }
}

fn consents_section(record: &ClientRecord, w: &Words) -> Section {
    let consents = record
        .consents
        .iter()
        .map(|c| {
            let c = &c.record;
            let how = [c.how.as_deref(), c.note.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(". ");
            vec![
                cell_date(c.on),
                match w.audience {
                    Audience::Service => c.scope.label().into(),
                    Audience::Person => plain::consent_scope_for_person(c.scope),
                },
                c.state.label().into(),
                how,
            ]
        })
        .collect();
    let requests: Vec<Vec<String>> = record
        .cases
        .iter()
        .flat_map(|k| &k.timeline)
        .filter_map(|e| match &e.entry.activity.kind {
            ActivityKind::RecordsRequest {
                record_holder,
                basis,
                records_requested,
                seen_on,
                ..
            } => Some(vec![
                cell_date(e.entry.activity.at.date()),
                record_holder.clone(),
                records_requested.clone().unwrap_or_default(),
                match basis {
                    RecordsBasis::PatientConsent => "With consent".to_string(),
                    RecordsBasis::LacksCapacityRecordHolderDecision { .. } => {
                        "Record holder’s decision (lacks capacity)".to_string()
                    }
                },
                opt_date(*seen_on),
            ]),
            _ => None,
        })
        .collect();
    Section {
        heading: w
            .pick(
                "Consents and record requests",
                "What you agreed to, and records we asked to see",
            )
            .into(),
        intro: None,
        new_page: false,
        blocks: vec![
            table(
                &["Date", "About", "Answer", "How"],
                &[1.5, 2.0, 1.3, 2.5],
                consents,
                "No consents recorded.",
            ),
            table(
                &["Asked", "Record holder", "Records", "Basis", "Seen"],
                &[1.5, 1.6, 2.0, 1.6, 1.35],
                requests,
                "No record requests.",
            ),
        ],
    }
}

fn safeguarding_section(record: &ClientRecord, w: &Words) -> Section {
    let rows = record
        .cases
        .iter()
        .flat_map(|k| &k.safeguarding)
        .map(|s| {
            let s = &s.record;
            let when = format!("{}, {}", cell_date(s.at.date()), s.at.format("%H:%M"));
            if let (Audience::Person, Some(reason)) = (w.audience, s.withheld) {
                return vec![
                    when,
                    s.kind.label().into(),
                    format!("Not included in your copy. {}", reason.plain()),
                    String::new(),
                    String::new(),
                ];
            }
            let first = if s.discussed_with_person_first {
                "Yes".to_string()
            } else {
                format!("No: {}", s.why_not_discussed.clone().unwrap_or_default())
            };
            let what = match s.withheld {
                Some(reason) => format!(
                    "{} (not for the person: {})",
                    s.kind.label(),
                    reason.label().to_lowercase()
                ),
                None => s.kind.label().into(),
            };
            vec![when, what, s.reason.clone(), s.who_was_told.clone(), first]
        })
        .collect();
    Section {
        heading: w
            .pick(
                "Safeguarding and confidentiality",
                "Times we had to share information",
            )
            .into(),
        intro: match w.audience {
            Audience::Service => None,
            Audience::Person => Some(
                "We keep what you tell us private. We only share it without your agreement if \
                 someone is at risk of serious harm. Each time that happened is listed here."
                    .into(),
            ),
        },
        new_page: false,
        blocks: vec![table(
            &[
                "When",
                "What",
                "Why",
                "Who was told",
                "Discussed with the person first",
            ],
            &[1.6, 1.5, 2.5, 1.6, 1.4],
            rows,
            w.pick(
                "None recorded.",
                "We have not shared information about you.",
            ),
        )],
    }
}

/// The case file (for the service) or the person's own copy: cover, legal status, reminders,
/// issues, consents and record requests, safeguarding, then each case's timeline.
pub fn case_file(
    record: &ClientRecord,
    reminders: &[Reminder],
    audience: Audience,
    generated: &Generated,
) -> Doc {
    let w = Words { audience };
    let (kind, heading) = match audience {
        Audience::Service => ("Advocacy case file", record.client.record.name.clone()),
        Audience::Person => (
            "Your advocacy record",
            format!("A copy for {}", record.client.record.name),
        ),
    };
    let mut doc = base(record, generated, kind, heading);
    doc.cover = cover(record, &w);
    doc.contents = true;
    if audience == Audience::Person {
        doc.intro = Some(PERSON_INTRO.into());
    }
    doc.sections = vec![
        legal_section(record, &w),
        reminders_section(reminders, &w),
        issues_section(record, &w),
        consents_section(record, &w),
        safeguarding_section(record, &w),
    ];
    let several = record.cases.len() > 1;
    doc.sections.extend(
        record
            .cases
            .iter()
            .map(|k| timeline_section(k, &w, several)),
    );
    if audience == Audience::Person {
        doc.sections.push(about_section());
    }
    doc
}

const PERSON_INTRO: &str = "This is a copy of what we have written down while supporting you as your \
Independent Mental Health Advocate. You have a right to see it.\n\n\
Some entries may have been left out because they contain information about other people, or \
information that could cause serious harm if it were shared. Where that has happened, you will \
see a grey box saying so.\n\n\
If you think something here is wrong, you can ask us to correct it. The last page explains what \
we keep, why, and your rights.";

fn about_section() -> Section {
    Section {
        heading: "About this record and your rights".into(),
        intro: None,
        new_page: true,
        blocks: vec![Block::Facts {
            pairs: vec![
                (
                    "Why we keep it".into(),
                    "To support you as your Independent Mental Health Advocate: to help you \
                     understand your rights and to have your say about your care and treatment."
                        .into(),
                ),
                (
                    "Where it comes from".into(),
                    "From you, and, when you agreed (or the law allowed it), from staff and from \
                     your records."
                        .into(),
                ),
                (
                    "Who sees it".into(),
                    "Our advocacy service. We share it with others only when you agree, or when \
                     someone is at risk of serious harm (listed in this copy)."
                        .into(),
                ),
                (
                    "How long we keep it".into(),
                    "For as long as our records policy says. You can ask us how long that is."
                        .into(),
                ),
                (
                    "Your rights".into(),
                    "You can ask us to correct anything that is wrong, or to delete it. If you \
                     are unhappy with how we handle your information, you can complain to the \
                     Information Commissioner’s Office: ico.org.uk, 0303 123 1113."
                        .into(),
                ),
            ],
        }],
    }
}
