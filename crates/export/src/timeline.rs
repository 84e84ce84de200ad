//! A case's timeline on paper: each activity with its kind's fields, its note and a line when
//! it was amended; for the person, an entry kept from them is a grey box saying so.

use crate::model::*;
use crate::plain;
use wardside_domain::*;
use wardside_store::export::{CaseRecord, RecordEntry};

/// The kind-specific fields of an activity, as label–value pairs, in the service's words.
pub fn kind_fields(a: &Activity) -> Vec<(String, Cell)> {
    kind_fields_for(a, Audience::Service)
}

/// The same for `audience`: the person's copy names what they were told about plainly.
pub(crate) fn kind_fields_for(a: &Activity, audience: Audience) -> Vec<(String, Cell)> {
    let mut out: Vec<(String, Cell)> = Vec::new();
    let mut put = |label: &str, value: Cell| {
        if !value.is_blank() {
            out.push((label.to_string(), value));
        }
    };
    if let Some(m) = a.duration_minutes {
        put("Duration", format!("{m} minutes").into());
    }
    match &a.kind {
        ActivityKind::PrivateInterview { wishes } => put(
            "Wishes, in their words",
            wishes.clone().unwrap_or_default().into(),
        ),
        ActivityKind::ProfessionalInterview { professional } => {
            put("With", professional.clone().into())
        }
        ActivityKind::WardRound {
            points_raised,
            response,
        }
        | ActivityKind::CpaReview {
            points_raised,
            response,
        } => {
            put("Points raised", Cell::Lines(points_raised.clone()));
            put("Response", response.clone().unwrap_or_default().into());
        }
        ActivityKind::Tribunal {
            hearing_on,
            outcome,
        }
        | ActivityKind::ManagersHearing {
            hearing_on,
            outcome,
        } => {
            put("Hearing date", opt_date(*hearing_on).into());
            put("Outcome", outcome.clone().unwrap_or_default().into());
        }
        ActivityKind::Concern {
            raised_with,
            response_due,
            response,
        } => {
            put("Raised with", raised_with.clone().into());
            put("Response due", opt_date(*response_due).into());
            put("Response", response.clone().unwrap_or_default().into());
        }
        ActivityKind::RecordsRequest {
            record_holder,
            records_requested,
            seen_on,
            what_was_seen,
            ..
        } => {
            put("Record holder", record_holder.clone().into());
            put(
                "Records asked for",
                records_requested.clone().unwrap_or_default().into(),
            );
            put("Seen on", opt_date(*seen_on).into());
            put(
                "What was seen",
                what_was_seen.clone().unwrap_or_default().into(),
            );
        }
        ActivityKind::RightsInformation { topics } => put(
            "Topics",
            Cell::Lines(
                topics
                    .iter()
                    .map(|t| match audience {
                        Audience::Service => t.label().to_string(),
                        Audience::Person => plain::rights_topic_for_person(*t),
                    })
                    .collect(),
            ),
        ),
        ActivityKind::Contact { method, with_whom } => {
            put("By", method.label().into());
            put("With", with_whom.clone().unwrap_or_default().into());
        }
        ActivityKind::Other => {}
    }
    out
}

/// "Amended twice; last saved 4 November 2026, 09:12 — reasons: …", or nothing for a note
/// saved once.
fn history_line(e: &RecordEntry) -> Option<String> {
    if e.versions.len() < 2 {
        return None;
    }
    let amendments = e.versions.len() - 1;
    let times = match amendments {
        1 => "once".to_string(),
        2 => "twice".to_string(),
        n => format!("{n} times"),
    };
    let reasons: Vec<&str> = e
        .versions
        .iter()
        .filter_map(|v| v.reason.as_deref())
        .collect();
    let last = e
        .versions
        .last()
        .map(|v| saved_at(&v.saved_at))
        .unwrap_or_default();
    let mut line =
        format!("This note was amended {times}; the latest text is shown, last saved {last}.");
    if !reasons.is_empty() {
        line.push_str(&format!(" Reasons given: {}.", reasons.join("; ")));
    }
    line.push_str(" Every earlier version is kept.");
    Some(line)
}

/// An RFC 3339 save time as UK local time.
fn saved_at(s: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| date_time(wardside_domain::rules::period::uk_time_at(t.to_utc())))
        .unwrap_or_else(|_| s.to_string())
}

fn entry_heading(e: &RecordEntry) -> String {
    format!(
        "{} – {}",
        date_time(e.entry.activity.at),
        e.entry.kind_label
    )
}

fn withheld_block(e: &RecordEntry, reason: WithholdReason) -> Block {
    Block::Withheld {
        title: format!("{} – not included", date_time(e.entry.activity.at)),
        text: format!(
            "An entry from this date has been left out of your copy. {} If you have questions \
             about this, please ask us.",
            reason.plain()
        ),
    }
}

pub(crate) fn timeline_section(k: &CaseRecord, w: &Words, several: bool) -> Section {
    let blocks = k
        .timeline
        .iter()
        .map(|e| match (w.audience, e.entry.activity.withheld_reason()) {
            (Audience::Person, Some(reason)) => withheld_block(e, reason),
            (_, withheld) => Block::Entry {
                heading: entry_heading(e),
                flag: withheld.map(|reason| {
                    format!(
                        "Not for the person: {} – left out of their copy",
                        reason.label()
                    )
                }),
                meta: kind_fields_for(&e.entry.activity, w.audience),
                body: e.entry.text.clone(),
                empty: "No note written.".into(),
                history: history_line(e),
            },
        })
        .collect::<Vec<_>>();
    let heading = w.pick("Timeline", "What happened, in date order");
    Section {
        heading: if several {
            format!("{heading}: case opened {}", date(k.case.record.opened_on))
        } else {
            heading.into()
        },
        intro: None,
        new_page: true,
        blocks: if blocks.is_empty() {
            vec![Block::Empty {
                text: "Nothing recorded yet.".into(),
            }]
        } else {
            blocks
        },
    }
}
