//! What an export is called. A file name is seen by whoever sees the folder it lands in (a
//! shared drive, an email attachment, a download list), so the person's name is in it only
//! when the user asked for that; otherwise the case's short reference and the date say which
//! file is which.

use chrono::NaiveDate;
use wardside_domain::CaseId;

/// The documents an export makes, as their files are named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    CaseFile,
    PatientCopy,
    /// Two files (`.pdf` and `.json`) sharing one stem.
    SubjectAccess,
    Hearing,
}

impl FileKind {
    fn stem(self) -> &'static str {
        match self {
            FileKind::CaseFile => "case-file",
            FileKind::PatientCopy => "copy-for-the-person",
            FileKind::SubjectAccess => "subject-access",
            FileKind::Hearing => "hearing-summary",
        }
    }
}

/// What a file name may be made from.
#[derive(Debug, Clone, Copy)]
pub struct Naming<'a> {
    pub kind: FileKind,
    /// The person's name: used only when `include_name` is set.
    pub person: &'a str,
    /// The case the document is about (a client's open case for a whole case file), if any.
    pub case: Option<CaseId>,
    /// The day of the export.
    pub on: NaiveDate,
    /// The user asked for the person's name in the file name.
    pub include_name: bool,
}

/// A case's short reference, as printed on the documents: the first eight hex digits of its id.
pub fn short_reference(case: CaseId) -> String {
    case.0.simple().to_string()[..8].to_string()
}

/// The name without its extension: `hearing-summary-3f2a9c1b-2026-12-01`, or with the
/// person's name when asked, `hearing-summary-Siân-Llŷr-3f2a9c1b-2026-12-01`.
pub fn file_stem(n: &Naming<'_>) -> String {
    let mut parts = vec![n.kind.stem().to_string()];
    if n.include_name {
        let name = name_for_file(n.person);
        if !name.is_empty() {
            parts.push(name);
        }
    }
    if let Some(case) = n.case {
        parts.push(short_reference(case));
    }
    parts.push(n.on.format("%Y-%m-%d").to_string());
    parts.join("-")
}

/// The PDF's file name (for a subject access response, its PDF's; the JSON beside it shares
/// the stem).
pub fn file_name(n: &Naming<'_>) -> String {
    format!("{}.pdf", file_stem(n))
}

/// A name as it can stand in a file name on any system: letters and digits (in any script)
/// kept, each run of anything else one hyphen.
fn name_for_file(name: &str) -> String {
    name.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const NAMES: &[&str] = &[
        "Siân Llŷr Ffransis",
        "Łucja Żółkiewska-Źrebięć",
        "فاطمہ خان",
        "王小明",
        "Pat O'Brien",
        "Jo",
        "Ann Marie ../../etc/passwd",
    ];

    fn naming(kind: FileKind, person: &str, include_name: bool) -> Naming<'_> {
        Naming {
            kind,
            person,
            case: Some(CaseId(
                "3f2a9c1b-0000-4000-8000-000000000000".parse().unwrap(),
            )),
            on: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            include_name,
        }
    }

    const KINDS: [FileKind; 4] = [
        FileKind::CaseFile,
        FileKind::PatientCopy,
        FileKind::SubjectAccess,
        FileKind::Hearing,
    ];

    #[test]
    fn a_file_name_never_has_the_persons_name_unless_asked() {
        for kind in KINDS {
            for person in NAMES {
                let name = file_name(&naming(kind, person, false));
                for word in person.split(|c: char| !c.is_alphanumeric()) {
                    if word.chars().count() > 1 {
                        assert!(!name.contains(word), "{name} has {word:?} of {person}");
                    }
                }
                assert!(name.ends_with("-3f2a9c1b-2026-12-01.pdf"), "{name}");
            }
        }
        assert_eq!(
            file_name(&naming(FileKind::Hearing, "Siân Llŷr Ffransis", false)),
            "hearing-summary-3f2a9c1b-2026-12-01.pdf"
        );
    }

    #[test]
    fn asked_for_the_name_is_there_in_its_own_script_and_safe_as_a_file_name() {
        let name = |p| file_name(&naming(FileKind::CaseFile, p, true));
        assert_eq!(
            name("Siân Llŷr Ffransis"),
            "case-file-Siân-Llŷr-Ffransis-3f2a9c1b-2026-12-01.pdf"
        );
        assert_eq!(name("王小明"), "case-file-王小明-3f2a9c1b-2026-12-01.pdf");
        assert_eq!(
            name("Pat O'Brien"),
            "case-file-Pat-O-Brien-3f2a9c1b-2026-12-01.pdf"
        );
        // Never a path: no separators, no dots but the extension's.
        let odd = name("Ann Marie ../../etc/passwd");
        assert_eq!(
            odd,
            "case-file-Ann-Marie-etc-passwd-3f2a9c1b-2026-12-01.pdf"
        );
        assert!(!odd.contains('/') && odd.matches('.').count() == 1);
    }

    #[test]
    fn without_a_case_the_date_alone_tells_files_apart() {
        let mut n = naming(FileKind::SubjectAccess, "Jo", false);
        n.case = None;
        assert_eq!(file_stem(&n), "subject-access-2026-12-01");
    }
}
