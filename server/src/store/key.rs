//! Where the database key comes from.
//!
//! In order: `TFTSR_DB_KEY`, then `TFTSR_DB_KEY_FILE`, then the generated key
//! file `db.key` in the data directory. A key is generated only for a new
//! install (no database yet); if a database exists but its key is gone, that
//! is an error, never a silently new empty database. There is no default key.

use std::fmt;
use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use crate::secret::Secret;

pub const KEY_ENV: &str = "TFTSR_DB_KEY";
pub const KEY_FILE_ENV: &str = "TFTSR_DB_KEY_FILE";
pub const GENERATED_KEY_FILE: &str = "db.key";

/// Where the key in use came from; shown on the security page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    Env,
    File(PathBuf),
    Generated(PathBuf),
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::Env => write!(f, "the {KEY_ENV} environment variable"),
            KeySource::File(p) => write!(f, "key file {} ({KEY_FILE_ENV})", p.display()),
            KeySource::Generated(p) => write!(f, "generated key file {}", p.display()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{KEY_ENV} is set but empty")]
    EmptyEnv,
    #[error("cannot read the key file {path}: {source}")]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the key file {0} is empty")]
    EmptyFile(PathBuf),
    #[error(
        "the database {db} exists but no key was given and {key} is missing; \
         set {KEY_ENV} or {KEY_FILE_ENV}, or restore the key file"
    )]
    MissingForExistingDb { db: PathBuf, key: PathBuf },
    #[error("cannot create the key file {path}: {source}")]
    WriteFile {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What the process environment says about keys; a struct so tests need not
/// touch the real environment.
#[derive(Default)]
pub struct KeyInputs {
    pub env_key: Option<Secret>,
    pub key_file: Option<PathBuf>,
}

impl KeyInputs {
    pub fn from_env() -> Self {
        Self {
            env_key: std::env::var(KEY_ENV).ok().map(Secret::new),
            key_file: std::env::var_os(KEY_FILE_ENV).map(PathBuf::from),
        }
    }
}

fn read_key_file(path: &Path) -> Result<Secret, KeyError> {
    let text = fs::read_to_string(path).map_err(|source| KeyError::ReadFile {
        path: path.to_owned(),
        source,
    })?;
    let key = Secret::new(text.trim_end_matches(['\r', '\n']).to_owned());
    drop(zeroize::Zeroizing::new(text));
    if key.expose().is_empty() {
        return Err(KeyError::EmptyFile(path.to_owned()));
    }
    Ok(key)
}

/// Resolves the key for the database at `db_path` in `data_dir`.
pub fn resolve(
    inputs: KeyInputs,
    data_dir: &Path,
    db_path: &Path,
) -> Result<(Secret, KeySource), KeyError> {
    if let Some(key) = inputs.env_key {
        if key.expose().is_empty() {
            return Err(KeyError::EmptyEnv);
        }
        return Ok((key, KeySource::Env));
    }
    if let Some(path) = inputs.key_file {
        return Ok((read_key_file(&path)?, KeySource::File(path)));
    }
    let path = data_dir.join(GENERATED_KEY_FILE);
    match read_key_file(&path) {
        Ok(key) => return Ok((key, KeySource::Generated(path))),
        Err(KeyError::ReadFile { source, .. }) if source.kind() == ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    if db_path.exists() {
        return Err(KeyError::MissingForExistingDb {
            db: db_path.to_owned(),
            key: path,
        });
    }
    let key = Secret::random_hex();
    write_private(&path, key.expose()).map_err(|source| KeyError::WriteFile {
        path: path.clone(),
        source,
    })?;
    tracing::info!(path = %path.display(), "generated a new database key; back it up, the database cannot be opened without it");
    Ok((key, KeySource::Generated(path)))
}

/// Creates `path` readable by the owner only; fails if it exists.
pub fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_key_wins() {
        let dir = tempfile::tempdir().expect("tempdir");
        let inputs = KeyInputs {
            env_key: Some(Secret::new("k".into())),
            key_file: None,
        };
        let (key, source) = resolve(inputs, dir.path(), &dir.path().join("t.db")).expect("key");
        assert_eq!(key.expose(), "k");
        assert_eq!(source, KeySource::Env);
        assert!(!dir.path().join(GENERATED_KEY_FILE).exists());
    }

    #[test]
    fn empty_env_key_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let inputs = KeyInputs {
            env_key: Some(Secret::new(String::new())),
            key_file: None,
        };
        assert!(matches!(
            resolve(inputs, dir.path(), &dir.path().join("t.db")),
            Err(KeyError::EmptyEnv)
        ));
    }

    #[test]
    fn key_file_is_read_without_trailing_newline() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("k");
        fs::write(&file, "s3cret\n").expect("write");
        let inputs = KeyInputs {
            env_key: None,
            key_file: Some(file.clone()),
        };
        let (key, source) = resolve(inputs, dir.path(), &dir.path().join("t.db")).expect("key");
        assert_eq!(key.expose(), "s3cret");
        assert_eq!(source, KeySource::File(file));
    }

    #[test]
    fn generates_a_private_key_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("t.db");
        let (first, _) = resolve(KeyInputs::default(), dir.path(), &db).expect("key");
        let path = dir.path().join(GENERATED_KEY_FILE);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (second, _) = resolve(KeyInputs::default(), dir.path(), &db).expect("key");
        assert!(first.matches(second.expose()));
    }

    #[test]
    fn missing_key_for_existing_db_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("t.db");
        fs::write(&db, b"anything").expect("write");
        let err = resolve(KeyInputs::default(), dir.path(), &db).expect_err("must fail");
        assert!(matches!(err, KeyError::MissingForExistingDb { .. }));
        assert!(!dir.path().join(GENERATED_KEY_FILE).exists());
    }
}
