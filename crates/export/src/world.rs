//! The typst "world" an export is compiled in: the bundled template and fonts, and the
//! document's data as one in-memory JSON file. Nothing is read from or written to disk, and
//! no system font is looked at.

use std::sync::OnceLock;
use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};

const TEMPLATE: &str = include_str!("../templates/document.typ");

/// Noto Sans (Latin, Greek, Cyrillic), Noto Naskh Arabic (Arabic and Urdu), Droid Sans Fallback
/// (Chinese, Japanese, Korean): see fonts/README.md.
const FONT_FILES: [&[u8]; 7] = [
    include_bytes!("../fonts/NotoSans-Regular.ttf"),
    include_bytes!("../fonts/NotoSans-Bold.ttf"),
    include_bytes!("../fonts/NotoSans-Italic.ttf"),
    include_bytes!("../fonts/NotoSans-BoldItalic.ttf"),
    include_bytes!("../fonts/NotoNaskhArabic-Regular.ttf"),
    include_bytes!("../fonts/NotoNaskhArabic-Bold.ttf"),
    include_bytes!("../fonts/DroidSansFallbackFull.ttf"),
];

struct Shared {
    library: LazyHash<Library>,
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

/// Parsed once per process: the library and the fonts do not change.
fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let fonts: Vec<Font> = FONT_FILES
            .iter()
            .flat_map(|data| Font::iter(Bytes::new(*data)))
            .collect();
        Shared {
            library: LazyHash::new(Library::default()),
            book: LazyHash::new(FontBook::from_fonts(&fonts)),
            fonts,
        }
    })
}

fn id(path: &str) -> FileId {
    // Every path is a constant that is a valid virtual path.
    let vpath = VirtualPath::new(path).unwrap_or_else(|_| unreachable!("{path} is a valid path"));
    RootedPath::new(VirtualRoot::Project, vpath).intern()
}

pub(crate) struct DocWorld {
    main: Source,
    data_id: FileId,
    data: Bytes,
    today: Datetime,
}

impl DocWorld {
    pub(crate) fn new(data_json: Vec<u8>, today: Datetime) -> Self {
        Self::with_template("/document.typ", TEMPLATE, data_json, today)
    }

    /// The same world with another bundled template as its main file (a commissioner's return:
    /// `templates/return.typ`); `path` is a constant naming it.
    pub(crate) fn with_template(
        path: &'static str,
        template: &'static str,
        data_json: Vec<u8>,
        today: Datetime,
    ) -> Self {
        DocWorld {
            main: Source::new(id(path), template.to_string()),
            data_id: id("/data.json"),
            data: Bytes::new(data_json),
            today,
        }
    }
}

impl World for DocWorld {
    fn library(&self) -> &LazyHash<Library> {
        &shared().library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &shared().book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.data_id {
            Ok(self.data.clone())
        } else if id == self.main.id() {
            Ok(Bytes::from_string(self.main.clone()))
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        shared().fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<typst::foundations::Duration>) -> Option<Datetime> {
        Some(self.today)
    }
}

/// Characters none of the bundled fonts has a glyph for (spaces and controls aside).
pub(crate) fn uncovered(text: &str) -> Vec<char> {
    let fonts = &shared().fonts;
    let mut out: Vec<char> = text
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .filter(|c| {
            !fonts
                .iter()
                .any(|f| f.info().coverage.contains(u32::from(*c)))
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}
