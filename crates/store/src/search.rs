//! Finding people and notes: the search box's two halves (people by name, NHS number or
//! hospital number; notes by their words), and the caseload filters that use the same rules
//! (its name box, "my cases"). Every search is audited as a fact, never with what was typed.

use crate::error::Result;
use crate::open::Store;
use crate::read::parse_id;
use crate::write::{Entity, Scope};
use chrono::NaiveDate;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use wardside_domain::client::{MatchedOn, PersonQuery, fold};
use wardside_domain::*;

#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    pub case: CaseId,
    pub activity: ActivityId,
    pub at: String,
    pub snippet: String,
    pub client_name: String,
    pub kind_label: &'static str,
}

/// A person a search found, with the case to open: the open one, else the latest.
#[derive(Debug, Clone, Serialize)]
pub struct PersonHit {
    pub client_id: ClientId,
    pub name: String,
    pub dob: Option<NaiveDate>,
    pub nhs_number: Option<NhsNumber>,
    pub hospital_number: Option<String>,
    pub hospital: Option<String>,
    pub ward: Option<String>,
    pub matched_on: MatchedOn,
    pub under_18: bool,
    pub case_id: Option<CaseId>,
    pub case_open: bool,
}

/// Turn what a person types into an FTS5 query that cannot be a syntax error: each word is a
/// quoted term (all must match); a trailing `*` keeps prefix search.
pub fn fts_query(input: &str) -> Result<String> {
    let terms: Vec<String> = input
        .split_whitespace()
        .filter_map(|w| {
            let prefix = w.ends_with('*');
            let word: String = w
                .trim_end_matches('*')
                .chars()
                .filter(|c| c.is_alphanumeric() || *c == '\'' || *c == '-')
                .collect();
            (!word.is_empty()).then(|| {
                format!(
                    "\"{}\"{}",
                    word.replace('"', "\"\""),
                    if prefix { "*" } else { "" }
                )
            })
        })
        .collect();
    if terms.is_empty() {
        return Err(ValidationError::Required {
            context: "search",
            field: "at least one word to look for",
        }
        .into());
    }
    Ok(terms.join(" "))
}

impl Store {
    /// Full-text search over the current text of every note, newest first. The query itself is
    /// not audited (it may contain a name); the fact of a search is.
    pub fn search(&mut self, query: &str, limit: usize) -> Result<Vec<SearchHit>> {
        let q = fts_query(query)?;
        self.write(|w| w.audit_read("search", Entity::Note, None, Scope::default()))?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT a.case_id, a.id, a.at, snippet(note_fts, 0, '[', ']', '…', 16), c.name, a.data ->> '$.kind.type'
             FROM note_fts JOIN note_version nv ON nv.rowid = note_fts.rowid JOIN activity a ON a.id = nv.note_id
             JOIN kase k ON k.id = a.case_id JOIN client c ON c.id = k.client_id
             WHERE note_fts MATCH ?1 AND a.deleted = 0
             ORDER BY note_fts.rowid DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![q, limit as i64], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get::<_, String>(5)?,
            ))
        })?;
        rows.map(|row| {
            let (case, activity, at, snippet, client_name, kind) = row?;
            Ok(SearchHit {
                case: parse_id(case)?,
                activity: parse_id(activity)?,
                at,
                snippet,
                client_name,
                kind_label: kind
                    .parse::<wardside_domain::activity::ActivityKindCode>()
                    .map(|k| k.label())
                    .unwrap_or("Activity"),
            })
        })
        .collect()
    }

    /// People whose name, NHS number or hospital number matches what was typed (see
    /// [`Client::matches`]), in name order. Like the note search, the fact of a search is
    /// audited and the query is not.
    pub fn search_people(&mut self, query: &str, limit: usize) -> Result<Vec<PersonHit>> {
        let Some(q) = PersonQuery::parse(query) else {
            return Err(ValidationError::Required {
                context: "search",
                field: "a name, NHS number or hospital number to look for",
            }
            .into());
        };
        self.write(|w| w.audit_read("search-people", Entity::Client, None, Scope::default()))?;
        let mut found = Vec::new();
        self.each_client(|id, client| {
            if let Some(on) = client.matches(&q) {
                found.push((fold(&client.name), id, client, on));
            }
            Ok(())
        })?;
        found.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        found.truncate(limit);
        found
            .into_iter()
            .map(|(_, id, client, on)| self.person_hit(id, client, on))
            .collect()
    }

    /// Every client, one at a time (a scan: names are folded in Rust, which SQLite cannot do).
    pub(crate) fn each_client(
        &self,
        mut f: impl FnMut(String, Client) -> Result<()>,
    ) -> Result<()> {
        let mut stmt = self.conn.prepare_cached("SELECT id, data FROM client")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (id, data) = row?;
            f(id, serde_json::from_str(&data)?)?;
        }
        Ok(())
    }

    /// A found person with their case and the under-18 marker on the store's today.
    pub(crate) fn person_hit(
        &self,
        id: String,
        client: Client,
        matched_on: MatchedOn,
    ) -> Result<PersonHit> {
        let case: Option<(String, Option<String>)> = self
            .conn
            .prepare_cached(
                "SELECT id, closed_on FROM kase WHERE client_id = ?1
                 ORDER BY closed_on IS NULL DESC, opened_on DESC, rowid DESC LIMIT 1",
            )?
            .query_row([&id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let under_18 = client.is_under_18_on(self.clock.today());
        Ok(PersonHit {
            client_id: parse_id(id)?,
            under_18,
            matched_on,
            case_open: case.as_ref().is_some_and(|(_, closed)| closed.is_none()),
            case_id: case.map(|(c, _)| parse_id(c)).transpose()?,
            name: client.name,
            dob: client.dob,
            nhs_number: client.nhs_number,
            hospital_number: client.hospital_number,
            hospital: client.hospital,
            ward: client.ward,
        })
    }

    /// The ids of the clients a caseload name box selects, as a JSON array for `json_each`
    /// (`None`: no name typed, so no narrowing).
    pub(crate) fn clients_named(&self, name: Option<&str>) -> Result<Option<String>> {
        let Some(q) = name.and_then(PersonQuery::parse) else {
            return Ok(None);
        };
        let mut ids = Vec::new();
        self.each_client(|id, client| {
            if client.matches(&q).is_some() {
                ids.push(id);
            }
            Ok(())
        })?;
        Ok(Some(serde_json::to_string(&ids)?))
    }

    /// The advocate records that are this store's own advocate (the name the store was created
    /// with, compared ignoring case and accents), as a JSON array for `json_each`. A case is
    /// "mine" when it is assigned to one of them, or assigned to nobody and opened on this
    /// device.
    pub(crate) fn own_advocates(&self) -> Result<String> {
        let me = fold(self.actor.trim());
        let mut stmt = self.conn.prepare_cached("SELECT id, data FROM advocate")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut ids = Vec::new();
        for row in rows {
            let (id, data) = row?;
            let advocate: Advocate = serde_json::from_str(&data)?;
            if fold(advocate.name.trim()) == me {
                ids.push(id);
            }
        }
        Ok(serde_json::to_string(&ids)?)
    }

    /// A caseload filter's name box and "my cases" as the JSON arrays its queries take.
    pub(crate) fn filter_sets(
        &self,
        filter: &crate::read::CaseloadFilter,
    ) -> Result<(Option<String>, String)> {
        let named = self.clients_named(filter.name.as_deref())?;
        let own = if filter.mine {
            self.own_advocates()?
        } else {
            "[]".to_owned()
        };
        Ok((named, own))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn people_searches_and_duplicate_checks_are_audited_without_what_was_typed() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::create_with(
            &dir.path().join("w.db"),
            &crate::Passphrase::new("plum kettle harbour"),
            "Ceri Advocate",
            crate::KdfParams {
                m_kib: 256,
                t: 1,
                p: 1,
            },
            crate::Tuning::default(),
        )
        .unwrap();
        let mut zofia = Client::named("Zofia Nowak");
        zofia.nhs_number = Some("9434765919".parse().unwrap());
        store.write(|w| w.add_client(&zofia)).unwrap();
        assert_eq!(store.search_people("zofia", 5).unwrap().len(), 1);
        assert_eq!(store.likely_duplicates(&zofia).unwrap().len(), 1);
        let audit: Vec<String> = store
            .conn
            .prepare("SELECT action || ' ' || entity || ' ' || ifnull(entity_id, '') FROM audit WHERE action <> 'create'")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<std::result::Result<_, _>>()
            .unwrap();
        assert_eq!(audit, ["search-people client ", "duplicate-check client "]);
    }
}
