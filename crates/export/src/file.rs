//! Putting an export in the file the person named, and nowhere else: created private (mode
//! 0600 from the first byte), never written through a symbolic link, and never over a file
//! that is already there unless the person agreed to replace it.

use crate::{ExportError, Result, SubjectAccess};
use std::fs::{File, Metadata, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Whether an export may replace a file already at its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overwrite {
    /// Leave anything already there as it is, and refuse.
    Refuse,
    /// The person agreed to replace it (the CLI's `--overwrite`, a save dialog that asked): a
    /// regular file of theirs is emptied and written again, and made private. Never through a
    /// symbolic link. A device they name (say `/dev/null`) is written to as it is.
    Replace,
}

/// What [`write_output`] would refuse, found before anything is made or audited.
pub(crate) fn check_target(path: &Path, overwrite: Overwrite) -> Result<()> {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        // Nothing there (or nothing we can see): opening it says what is wrong, if anything.
        return Ok(());
    };
    let path = path.to_path_buf();
    if meta.file_type().is_symlink() {
        Err(ExportError::Symlink { path })
    } else if overwrite == Overwrite::Refuse {
        Err(ExportError::Exists { path })
    } else if writable_in_place(&meta) {
        Ok(())
    } else {
        Err(ExportError::NotAFile { path })
    }
}

/// A regular file, or a character device such as `/dev/null` (never a folder, a pipe or a
/// socket: opening a pipe would wait for a reader).
fn writable_in_place(meta: &Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if meta.file_type().is_char_device() {
            return true;
        }
    }
    meta.is_file()
}

/// Write `bytes` to `path` and nowhere else: straight into the named file (no temporary file
/// beside it), created with mode 0600, flushed to disk. Refused if the last part of `path` is
/// a symbolic link, and if a file is already there unless `overwrite` says the person agreed.
/// If writing fails part way (a full disk), a regular file is removed and the error says why;
/// the record itself is untouched.
pub fn write_output(path: &Path, bytes: &[u8], overwrite: Overwrite) -> Result<()> {
    let fail = |source| ExportError::Write {
        path: path.to_path_buf(),
        source,
    };
    check_target(path, overwrite)?;
    // Checked again by the open itself (O_EXCL, O_NOFOLLOW): something put at `path` since the
    // check is refused the same way.
    let mut file =
        open(path, overwrite).map_err(|e| refused(path, &e).unwrap_or_else(|| fail(e)))?;
    let meta = file.metadata().map_err(fail)?;
    if !writable_in_place(&meta) {
        return Err(ExportError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    let regular = meta.is_file();
    if regular && overwrite == Overwrite::Replace {
        // Private before a byte is written. Only the owner may change a file's mode, so this
        // also refuses someone else's file left where ours was to go.
        make_private(&file).map_err(fail)?;
        file.set_len(0).map_err(fail)?;
    }
    let written = file.write_all(bytes).and_then(|()| file.sync_all());
    if let Err(e) = written {
        drop(file);
        // Only ever a regular file we were writing into (never, say, a device node).
        if regular {
            let _ = std::fs::remove_file(path);
        }
        return Err(fail(e));
    }
    Ok(())
}

fn open(path: &Path, overwrite: Overwrite) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true);
    match overwrite {
        Overwrite::Refuse => options.create_new(true),
        // No truncating open: a regular file is emptied once it is known to be one.
        Overwrite::Replace => options.create(true),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    options.open(path)
}

/// An open refused because of what is at `path` (a link, or a file that appeared since the
/// check), as the error that says so.
fn refused(path: &Path, e: &std::io::Error) -> Option<ExportError> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    let path = path.to_path_buf();
    if meta.file_type().is_symlink() {
        Some(ExportError::Symlink { path })
    } else if e.kind() == std::io::ErrorKind::AlreadyExists {
        Some(ExportError::Exists { path })
    } else {
        None
    }
}

#[cfg(unix)]
fn make_private(file: &File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn make_private(_: &File) -> std::io::Result<()> {
    Ok(())
}

/// The two files of a subject access response in `dir`, sharing `stem`
/// ([`crate::filename::file_stem`]).
pub(crate) fn subject_access_paths(dir: &Path, stem: &str) -> [PathBuf; 2] {
    [
        dir.join(format!("{stem}.pdf")),
        dir.join(format!("{stem}.json")),
    ]
}

/// The two files of a subject access response, `stem.pdf` and `stem.json` in `dir` (made if
/// missing, private to the user). The same rule as [`write_output`] for both, and both are
/// checked before either is written.
pub fn write_subject_access(
    dir: &Path,
    sar: &SubjectAccess,
    stem: &str,
    overwrite: Overwrite,
) -> Result<[PathBuf; 2]> {
    let [pdf, json] = subject_access_paths(dir, stem);
    check_target(&pdf, overwrite)?;
    check_target(&json, overwrite)?;
    create_private_dir(dir)?;
    write_output(&pdf, &sar.pdf, overwrite)?;
    if let Err(e) = write_output(&json, &sar.json, overwrite) {
        let _ = std::fs::remove_file(&pdf);
        return Err(e);
    }
    Ok([pdf, json])
}

pub(crate) fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|source| ExportError::Write {
        path: dir.to_path_buf(),
        source,
    })
}
