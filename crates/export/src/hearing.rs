//! The hearing summary: a short document for a tribunal or hospital managers' hearing about
//! one case, for the panel and the professionals (it may keep the service's words).

use crate::model::*;
use chrono::NaiveDate;
use wardside_domain::*;
use wardside_store::export::{ClientRecord, RecordEntry};

/// Which hearing the summary is for, from the timeline's tribunal and managers' hearing
/// entries: the next one on or after `today`; else the latest one already held; else the
/// latest recorded without its date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hearing {
    pub kind: &'static str,
    pub on: Option<NaiveDate>,
}

pub fn hearing_of(entries: &[&RecordEntry], today: NaiveDate) -> Option<Hearing> {
    let hearings: Vec<(Hearing, chrono::NaiveDateTime)> = entries
        .iter()
        .filter_map(|e| {
            let (kind, on) = match &e.entry.activity.kind {
                ActivityKind::Tribunal { hearing_on, .. } => ("Tribunal hearing", *hearing_on),
                ActivityKind::ManagersHearing { hearing_on, .. } => {
                    ("Hospital managers’ hearing", *hearing_on)
                }
                _ => return None,
            };
            Some((Hearing { kind, on }, e.entry.activity.at))
        })
        .collect();
    let dated = || hearings.iter().filter_map(|(h, _)| h.on.map(|d| (h, d)));
    dated()
        .filter(|(_, d)| *d >= today)
        .min_by_key(|(_, d)| *d)
        .or_else(|| dated().max_by_key(|(_, d)| *d))
        .map(|(h, _)| *h)
        .or_else(|| hearings.iter().max_by_key(|(_, at)| *at).map(|(h, _)| *h))
}

/// The person's wishes in their words, the issues, what has been said for them so far, and
/// what is still unanswered. Entries withheld from the person are left out (they may see it).
pub fn hearing_summary(record: &ClientRecord, today: NaiveDate, generated: &Generated) -> Doc {
    let w = Words {
        audience: Audience::Service,
    };
    let name = record.client.record.name.clone();
    let mut doc = base(record, generated, "Hearing summary", name);
    doc.cover = cover(record, &w);
    let entries: Vec<&RecordEntry> = record
        .cases
        .iter()
        .flat_map(|k| &k.timeline)
        .filter(|e| e.entry.activity.withheld_reason().is_none())
        .collect();
    let hearing = hearing_of(&entries, today);
    doc.cover.splice(
        0..0,
        [
            (
                "Hearing".to_string(),
                hearing
                    .map_or("None recorded on this case", |h| h.kind)
                    .to_string(),
            ),
            (
                "Hearing date".to_string(),
                hearing
                    .and_then(|h| h.on)
                    .map_or_else(|| "Not recorded".to_string(), date),
            ),
        ],
    );

    let wishes: Vec<Block> = entries
        .iter()
        .filter_map(|e| match &e.entry.activity.kind {
            ActivityKind::PrivateInterview {
                wishes: Some(wishes),
            } if !wishes.trim().is_empty() => Some(Block::Entry {
                heading: format!("Said on {}", date(e.entry.activity.at.date())),
                flag: None,
                meta: Vec::new(),
                body: wishes.clone(),
                empty: String::new(),
                history: None,
            }),
            _ => None,
        })
        .collect();

    let mut said: Vec<Vec<Cell>> = Vec::new();
    let mut unanswered = Vec::new();
    for e in &entries {
        let on = cell_date(e.entry.activity.at.date());
        match &e.entry.activity.kind {
            ActivityKind::WardRound {
                points_raised,
                response,
            }
            | ActivityKind::CpaReview {
                points_raised,
                response,
            } if !points_raised.is_empty() => {
                let forum = e.entry.kind_label;
                said.push(vec![
                    on.clone().into(),
                    forum.into(),
                    Cell::Lines(points_raised.clone()),
                    response
                        .clone()
                        .unwrap_or_else(|| "None recorded".into())
                        .into(),
                ]);
                if response.is_none() {
                    for p in points_raised {
                        unanswered.push(format!(
                            "Raised on {on} ({forum}): {p} – no response recorded."
                        ));
                    }
                }
            }
            ActivityKind::Concern {
                raised_with,
                response_due,
                response,
            } => {
                said.push(vec![
                    on.clone().into(),
                    format!("Concern raised with {raised_with}").into(),
                    first_line(&e.entry.text).into(),
                    response.clone().unwrap_or_else(|| "None yet".into()).into(),
                ]);
                if response.is_none() {
                    let due = response_due
                        .map(|d| format!(" (due {})", date(d)))
                        .unwrap_or_default();
                    unanswered.push(format!(
                        "Concern raised with {raised_with} on {on}: no response yet{due}."
                    ));
                }
            }
            ActivityKind::Tribunal {
                outcome: Some(o), ..
            }
            | ActivityKind::ManagersHearing {
                outcome: Some(o), ..
            } => said.push(vec![
                on.clone().into(),
                e.entry.kind_label.into(),
                first_line(&e.entry.text).into(),
                o.clone().into(),
            ]),
            _ => {}
        }
    }
    for k in &record.cases {
        for i in &k.issues {
            if i.record.outcome.is_none() {
                unanswered.push(format!(
                    "{} (raised {}): {}",
                    i.record.category.label(),
                    date(i.record.opened_on),
                    i.record.summary
                ));
            }
        }
    }

    doc.sections = vec![
        Section {
            heading: format!("In {}’s own words", first_name(&record.client.record.name)),
            intro: Some(
                "What the person has told their advocate they want, as they said it.".into(),
            ),
            new_page: false,
            blocks: if wishes.is_empty() {
                vec![Block::Empty {
                    text: "No wishes recorded in the person’s words.".into(),
                }]
            } else {
                wishes
            },
        },
        Section {
            heading: "Issues".into(),
            intro: None,
            new_page: false,
            blocks: vec![issues_table(record, &w)],
        },
        Section {
            heading: "Representations made so far".into(),
            intro: None,
            new_page: false,
            blocks: vec![table(
                &["Date", "Where", "What was said", "Response"],
                &[1.5, 1.6, 3.0, 2.0],
                said,
                "None recorded.",
            )],
        },
        Section {
            heading: "Questions to raise".into(),
            intro: Some("Open issues and points still waiting for an answer.".into()),
            new_page: false,
            blocks: vec![if unanswered.is_empty() {
                Block::Empty {
                    text: "Nothing outstanding.".into(),
                }
            } else {
                Block::List { items: unanswered }
            }],
        },
    ];
    doc
}

fn first_name(name: &str) -> &str {
    name.split_whitespace().next().unwrap_or(name)
}

fn first_line(text: &str) -> String {
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    if line.chars().count() > 240 {
        format!("{}…", line.chars().take(240).collect::<String>())
    } else {
        line.to_string()
    }
}
