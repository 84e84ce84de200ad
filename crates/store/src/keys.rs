//! The local key hierarchy: a random 256-bit database key (DEK) opens SQLCipher in raw-key form;
//! it is wrapped with AES-256-GCM under a key derived from the passphrase by Argon2id. The
//! wrapped key and the KDF parameters live in a small versioned JSON key file beside the
//! database, so changing the passphrase rewraps 32 bytes and never rewrites the database.

use crate::error::{Result, StoreError};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use zeroize::{Zeroize, Zeroizing};

pub const KEY_FILE_FORMAT: &str = "wardside-key-file";
pub const KEY_FILE_VERSION: u32 = 1;
const MIN_PASSPHRASE_CHARS: usize = 10;

/// A passphrase, wiped from memory when dropped and never printed.
#[derive(Clone)]
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    pub fn new(s: impl Into<String>) -> Self {
        Passphrase(Zeroizing::new(s.into()))
    }

    /// Whether two typed passphrases are the same (for "type it again").
    pub fn matches(&self, other: &Passphrase) -> bool {
        // Both were typed by the same person a moment apart: no timing concern.
        self.bytes() == other.bytes()
    }

    fn bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// The rule for a new passphrase. Length is what matters against offline guessing; the
    /// desktop app adds strength feedback on top of this floor.
    pub fn check_new(&self) -> Result<()> {
        let s = self.0.as_str();
        if s.chars().count() < MIN_PASSPHRASE_CHARS {
            return Err(StoreError::WeakPassphrase(
                "use at least 10 characters; a few unrelated words are easy to remember",
            ));
        }
        if s.trim() != s {
            return Err(StoreError::WeakPassphrase(
                "it starts or ends with a space, which is easy to get wrong when unlocking",
            ));
        }
        let first = s.chars().next();
        if s.chars().all(|c| Some(c) == first) {
            return Err(StoreError::WeakPassphrase("it repeats one character"));
        }
        Ok(())
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(***)")
    }
}

/// The database key. Lives only in memory while the store is unlocked; wiped on drop.
pub struct DatabaseKey(Zeroizing<[u8; 32]>);

impl DatabaseKey {
    pub(crate) fn random() -> Result<Self> {
        let mut k = Zeroizing::new([0u8; 32]);
        SystemRandom::new()
            .fill(k.as_mut())
            .map_err(|_| StoreError::Random)?;
        Ok(DatabaseKey(k))
    }

    /// SQLCipher's raw-key pragma. The returned string holds the key and is wiped on drop.
    pub(crate) fn pragma(&self) -> Zeroizing<String> {
        let mut s = Zeroizing::new(String::with_capacity(80));
        s.push_str("PRAGMA key = \"");
        s.push_str(&self.raw_key());
        s.push_str("\";");
        s
    }

    /// SQLCipher's raw-key form, `x'<64 hex digits>'` (for `ATTACH ... KEY`). Wiped on drop.
    pub(crate) fn raw_key(&self) -> Zeroizing<String> {
        let mut s = Zeroizing::new(String::with_capacity(67));
        s.push_str("x'");
        for b in self.0.iter() {
            s.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
            s.push(char::from_digit(u32::from(b & 0xf), 16).unwrap_or('0'));
        }
        s.push('\'');
        s
    }
}

impl fmt::Debug for DatabaseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DatabaseKey(***)")
    }
}

/// Argon2id cost. The default follows RFC 9106's second recommendation in memory and passes,
/// with one lane (ward laptops are small): ~0.3 s here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    pub m_kib: u32,
    pub t: u32,
    pub p: u32,
}

impl KdfParams {
    /// The most memory a key file may ask for: 2 GiB, far above the default and any laptop's
    /// sensible setting, well below what would exhaust one.
    pub const MAX_M_KIB: u32 = 2 * 1024 * 1024;
    /// The most passes a key file may ask for (the default is 3).
    pub const MAX_T: u32 = 16;
    /// The most lanes a key file may ask for (the default is 1). The same as [`Self::MAX_T`].
    pub const MAX_P: u32 = Self::MAX_T;

    /// Whether these are parameters Wardside would ever have written: Argon2's own minimums
    /// (at least 8 KiB per lane, one pass, one lane) and the maxima above. Checked before the
    /// KDF runs, because a key file edited to ask for terabytes or a billion passes would
    /// otherwise hang or exhaust memory before the tag check could notice the edit.
    pub fn check(&self) -> Result<(), String> {
        let KdfParams { m_kib, t, p } = *self;
        // p first: 8 * p must not overflow.
        let ok = (1..=Self::MAX_P).contains(&p)
            && (1..=Self::MAX_T).contains(&t)
            && (8 * p..=Self::MAX_M_KIB).contains(&m_kib);
        if ok {
            Ok(())
        } else {
            Err(format!(
                "Argon2 parameters m = {m_kib} KiB, t = {t}, p = {p} are outside what Wardside \
                 accepts: m from 8 KiB per lane to {} KiB, t and p from 1 to {}",
                Self::MAX_M_KIB,
                Self::MAX_T,
            ))
        }
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        KdfParams {
            m_kib: 64 * 1024,
            t: 3,
            p: 1,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Kdf {
    alg: String,
    #[serde(flatten)]
    params: KdfParams,
    salt: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Wrapped {
    alg: String,
    nonce: String,
    ciphertext: String,
}

/// The key file, as stored (JSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyFile {
    format: String,
    version: u32,
    store_id: String,
    kdf: Kdf,
    wrapped_key: Wrapped,
}

/// `wardside.db` → `wardside.db.key`.
pub fn key_path(db: &Path) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push(".key");
    PathBuf::from(p)
}

/// Argon2id. Callers check `params` first ([`KdfParams::check`]) and say what was wrong; the
/// check here only makes sure no path can run the KDF with unchecked parameters.
fn derive(pass: &Passphrase, salt: &[u8], params: KdfParams) -> Result<Zeroizing<[u8; 32]>> {
    params.check().map_err(StoreError::Corrupt)?;
    let p = Params::new(params.m_kib, params.t, params.p, Some(32))
        .map_err(|e| StoreError::Corrupt(format!("KDF parameters: {e}")))?;
    let mut out = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, p)
        .hash_password_into(pass.bytes(), salt, out.as_mut())
        .map_err(|e| StoreError::Corrupt(format!("KDF: {e}")))?;
    Ok(out)
}

impl KeyFile {
    /// Everything that is not the ciphertext is bound to it as associated data, so editing the
    /// KDF parameters or the store id makes unwrapping fail instead of silently weakening it.
    fn aad(&self) -> Vec<u8> {
        format!(
            "{}|{}|{}|{}|m={}|t={}|p={}|{}|{}",
            self.format,
            self.version,
            self.store_id,
            self.kdf.alg,
            self.kdf.params.m_kib,
            self.kdf.params.t,
            self.kdf.params.p,
            self.kdf.salt,
            self.wrapped_key.alg
        )
        .into_bytes()
    }

    pub fn store_id(&self) -> &str {
        &self.store_id
    }

    pub fn kdf_params(&self) -> KdfParams {
        self.kdf.params
    }

    /// Wrap `dek` under `pass` with a fresh salt and nonce.
    pub fn wrap(
        dek: &DatabaseKey,
        pass: &Passphrase,
        params: KdfParams,
        store_id: &str,
    ) -> Result<KeyFile> {
        let rng = SystemRandom::new();
        let mut salt = [0u8; 16];
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill(&mut salt).map_err(|_| StoreError::Random)?;
        rng.fill(&mut nonce).map_err(|_| StoreError::Random)?;
        let mut kf = KeyFile {
            format: KEY_FILE_FORMAT.into(),
            version: KEY_FILE_VERSION,
            store_id: store_id.into(),
            kdf: Kdf {
                alg: "argon2id".into(),
                params,
                salt: B64.encode(salt),
            },
            wrapped_key: Wrapped {
                alg: "aes-256-gcm".into(),
                nonce: B64.encode(nonce),
                ciphertext: String::new(),
            },
        };
        params
            .check()
            .map_err(|reason| StoreError::Refused(format!("no key file was written: {reason}")))?;
        let kek = derive(pass, &salt, params)?;
        let key = LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, kek.as_ref()).map_err(|_| StoreError::Random)?,
        );
        let mut buf = Zeroizing::new(dek.0.to_vec());
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(kf.aad()),
            &mut *buf,
        )
        .map_err(|_| StoreError::Random)?;
        kf.wrapped_key.ciphertext = B64.encode(&*buf);
        Ok(kf)
    }

    /// Unwrap the database key. A wrong passphrase (or a tampered file) is `WrongPassphrase`.
    pub fn unwrap_key(&self, pass: &Passphrase, path: &Path) -> Result<DatabaseKey> {
        let corrupt = |reason: &str| StoreError::CorruptKeyFile {
            path: path.to_owned(),
            reason: reason.into(),
        };
        let salt = B64
            .decode(&self.kdf.salt)
            .map_err(|_| corrupt("salt is not base64"))?;
        let nonce: [u8; NONCE_LEN] = B64
            .decode(&self.wrapped_key.nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or_else(|| corrupt("nonce is not 12 bytes of base64"))?;
        let mut ct = Zeroizing::new(
            B64.decode(&self.wrapped_key.ciphertext)
                .map_err(|_| corrupt("wrapped key is not base64"))?,
        );
        if ct.len() != 32 + AES_256_GCM.tag_len() {
            return Err(corrupt("wrapped key has the wrong length"));
        }
        // Before the KDF runs: the tag check would catch edited parameters, but only after
        // Argon2 had spent whatever time and memory they ask for.
        self.kdf
            .params
            .check()
            .map_err(|reason| corrupt(&format!("{reason}; it was edited or corrupted")))?;
        if salt.len() < 8 {
            return Err(corrupt("the salt is too short"));
        }
        let kek = derive(pass, &salt, self.kdf.params)?;
        let key = LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, kek.as_ref()).map_err(|_| StoreError::Random)?,
        );
        let plain = key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(self.aad()),
                &mut ct,
            )
            .map_err(|_| StoreError::WrongPassphrase)?;
        let mut dek = Zeroizing::new([0u8; 32]);
        dek.copy_from_slice(plain);
        plain.zeroize();
        Ok(DatabaseKey(dek))
    }

    pub fn read(path: &Path) -> Result<KeyFile> {
        let bytes = std::fs::read(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                StoreError::KeyFileMissing(path.to_owned())
            } else {
                StoreError::io(path, e)
            }
        })?;
        let kf: KeyFile =
            serde_json::from_slice(&bytes).map_err(|e| StoreError::CorruptKeyFile {
                path: path.to_owned(),
                reason: format!("not a Wardside key file: {e}"),
            })?;
        if kf.format != KEY_FILE_FORMAT {
            return Err(StoreError::CorruptKeyFile {
                path: path.to_owned(),
                reason: "not a Wardside key file".into(),
            });
        }
        if kf.version != KEY_FILE_VERSION {
            return Err(StoreError::UnsupportedKeyFile {
                path: path.to_owned(),
                version: kf.version,
            });
        }
        if kf.kdf.alg != "argon2id" || kf.wrapped_key.alg != "aes-256-gcm" {
            return Err(StoreError::CorruptKeyFile {
                path: path.to_owned(),
                reason: "unknown algorithm".into(),
            });
        }
        Ok(kf)
    }

    /// Write a new key file; refuses to replace an existing one.
    pub fn write_new(&self, path: &Path) -> Result<()> {
        let mut f = private_file(path).map_err(|e| StoreError::io(path, e))?;
        f.write_all(&self.to_bytes()?)
            .and_then(|_| f.sync_all())
            .map_err(|e| StoreError::io(path, e))
    }

    /// Atomically replace the key file: write beside it, flush, rename over. A crash leaves
    /// either the old file or the new one, never half of each.
    pub fn replace(&self, path: &Path) -> Result<()> {
        let tmp = new_key_path(path);
        let _ = std::fs::remove_file(&tmp); // a leftover from an interrupted change holds only a wrapped key
        self.write_new(&tmp)?;
        rename_durably(&tmp, path)
    }

    fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut v = serde_json::to_vec_pretty(self)?;
        v.push(b'\n');
        Ok(v)
    }
}

/// `wardside.db.key` → `wardside.db.key.new`: a key file on its way in (a passphrase change's
/// temporary file, or the key file of a re-keyed database, see `rekey.rs`).
pub(crate) fn new_key_path(key_path: &Path) -> PathBuf {
    let mut p = key_path.as_os_str().to_owned();
    p.push(".new");
    PathBuf::from(p)
}

/// Rename `from` over `to` and make the rename itself durable (fsync the directory; not all
/// platforms allow opening one).
pub(crate) fn rename_durably(from: &Path, to: &Path) -> Result<()> {
    std::fs::rename(from, to).map_err(|e| StoreError::io(to, e))?;
    sync_dir(to);
    Ok(())
}

/// Flush the directory holding `path`, so a file created or renamed in it survives a crash.
pub(crate) fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

/// Create a file only the owner can read, failing if it exists.
pub(crate) fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: KdfParams = KdfParams {
        m_kib: 64,
        t: 1,
        p: 1,
    };

    #[test]
    fn wrap_then_unwrap_returns_the_same_key_and_a_wrong_passphrase_fails() {
        let dek = DatabaseKey::random().unwrap();
        let kf =
            KeyFile::wrap(&dek, &Passphrase::new("correct horse battery"), FAST, "s1").unwrap();
        let back = kf
            .unwrap_key(&Passphrase::new("correct horse battery"), Path::new("k"))
            .unwrap();
        assert_eq!(*back.0, *dek.0);
        assert!(matches!(
            kf.unwrap_key(&Passphrase::new("correct horse batterY"), Path::new("k")),
            Err(StoreError::WrongPassphrase)
        ));
    }

    #[test]
    fn tampered_parameters_do_not_unwrap() {
        let dek = DatabaseKey::random().unwrap();
        let mut kf =
            KeyFile::wrap(&dek, &Passphrase::new("correct horse battery"), FAST, "s1").unwrap();
        kf.kdf.params.t = 2;
        assert!(matches!(
            kf.unwrap_key(&Passphrase::new("correct horse battery"), Path::new("k")),
            Err(StoreError::WrongPassphrase)
        ));
    }

    #[test]
    fn argon2_parameters_are_bounded_and_every_setting_we_use_is_inside_the_bounds() {
        let ok = |m_kib, t, p| KdfParams { m_kib, t, p }.check().is_ok();
        // The default, the tests' cheap settings, the benchmark's, and the edges.
        assert!(KdfParams::default().check().is_ok());
        assert!(ok(64, 1, 1) && ok(256, 1, 1) && ok(1024, 1, 1));
        assert!(ok(8, 1, 1) && ok(2 * 1024 * 1024, 16, 16) && ok(128, 1, 16));
        // Argon2's own minimums.
        assert!(!ok(7, 1, 1) && !ok(64, 0, 1) && !ok(64, 1, 0) && !ok(127, 1, 16));
        // Ours: 2 GiB, 16 passes, 16 lanes; and no overflow on absurd lanes.
        assert!(!ok(2 * 1024 * 1024 + 1, 1, 1) && !ok(u32::MAX, 1, 1));
        assert!(!ok(64, 17, 1) && !ok(64, u32::MAX, 1));
        assert!(!ok(u32::MAX, 1, 17) && !ok(u32::MAX, 1, u32::MAX));
    }

    #[test]
    fn a_key_file_with_out_of_bounds_parameters_is_never_written_or_tried() {
        let dek = DatabaseKey::random().unwrap();
        let pass = Passphrase::new("correct horse battery");
        let huge = KdfParams {
            m_kib: u32::MAX,
            t: u32::MAX,
            p: 1,
        };
        assert!(matches!(
            KeyFile::wrap(&dek, &pass, huge, "s1"),
            Err(StoreError::Refused(_))
        ));
        let mut kf = KeyFile::wrap(&dek, &pass, FAST, "s1").unwrap();
        kf.kdf.params = huge;
        let started = std::time::Instant::now();
        let err = kf.unwrap_key(&pass, Path::new("k")).unwrap_err();
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        assert!(matches!(err, StoreError::CorruptKeyFile { .. }), "{err}");
    }

    #[test]
    fn weak_passphrases_are_refused_with_a_reason() {
        assert!(
            Passphrase::new("short")
                .check_new()
                .unwrap_err()
                .to_string()
                .contains("at least 10")
        );
        assert!(Passphrase::new("aaaaaaaaaaaa").check_new().is_err());
        assert!(Passphrase::new(" leading space ok?").check_new().is_err());
        assert!(Passphrase::new("plum kettle harbour").check_new().is_ok());
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        assert_eq!(
            format!("{:?}", Passphrase::new("plum kettle harbour")),
            "Passphrase(***)"
        );
        assert_eq!(
            format!("{:?}", DatabaseKey::random().unwrap()),
            "DatabaseKey(***)"
        );
    }
}
