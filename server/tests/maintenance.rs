//! `tftsr db backup` and `tftsr db rekey`: on real SQLCipher files, through
//! the library and the real binary.

mod common;

use std::process::{Command, Stdio};

use common::{TestDb, draft, key};
use rusqlite::Connection;
use tftsr_core::{IssueStore, Timestamp};

use tftsr_server::secret::Secret;
use tftsr_server::store::maintenance::{self, MaintenanceError};
use tftsr_server::store::{DB_FILE, Database, OpenError};

const PLAIN_HEADER: &[u8; 16] = b"SQLite format 3\0";
const NEW_KEY: &str = "a brand new key, long enough";

fn now() -> Timestamp {
    Timestamp::from_unix_millis(1_795_100_000_000).expect("in range")
}

fn rows(path: &std::path::Path, key: &Secret) -> (i64, i64) {
    let conn = Connection::open(path).expect("open");
    conn.pragma_update(None, "key", key.expose()).expect("key");
    let issues = conn
        .query_row("SELECT count(*) FROM issues", [], |r| r.get(0))
        .expect("issues");
    let audit = conn
        .query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))
        .expect("audit");
    (issues, audit)
}

fn is_not_plaintext(path: &std::path::Path) {
    let bytes = std::fs::read(path).expect("read");
    assert!(bytes.len() > 4096, "a real database file");
    assert_ne!(&bytes[..16], PLAIN_HEADER, "the backup must be encrypted");
    let conn = Connection::open(path).expect("open");
    assert!(
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r
            .get::<_, i64>(0))
            .is_err(),
        "must not open without the key"
    );
}

#[test]
fn a_backup_is_encrypted_complete_and_never_overwritten_by_accident() {
    let t = TestDb::new();
    for title in ["Disk full", "DNS down", "Cert expired"] {
        t.tracker
            .create(&draft(title, "high", "linux"))
            .expect("create");
    }
    let dest = t.dir.path().join("copy.db");
    let info =
        t.db.backup_to(&dest, None, false, now())
            .expect("backup with the open database's own key");
    assert_eq!(info.size, std::fs::metadata(&dest).expect("meta").len());
    assert_eq!(info.sha256.len(), 64);
    is_not_plaintext(&dest);

    // Opens with the key, through the same path as the app, with the rows.
    let copy = Database::open(&dest, &key()).expect("the backup opens with the key");
    drop(copy);
    let (issues, audit_before) = rows(&dest, &key());
    assert_eq!(issues, 3);
    // The copy was taken before its own audit entry.
    let audit = t.tracker.recent_audit(10).expect("audit");
    assert_eq!(audit[0].action, "db_backup");
    assert_eq!(audit[0].details["sha256"], info.sha256.as_str());
    assert_eq!(audit[0].details["size"], info.size);
    assert_eq!(audit[0].details["file"], "copy.db");
    assert_eq!(audit_before as usize, audit.len() - 1);
    let wrong = Database::open(&dest, &Secret::new("not the key".into()));
    assert!(matches!(wrong, Err(OpenError::WrongKey(_))), "{wrong:?}");

    // No overwrite without --force; no temp files left behind.
    let before = std::fs::read(&dest).expect("read");
    let again = t.db.backup_to(&dest, Some(&key()), false, now());
    assert!(
        matches!(again, Err(MaintenanceError::Exists(_))),
        "{again:?}"
    );
    assert_eq!(std::fs::read(&dest).expect("read"), before);
    t.db.backup_to(&dest, Some(&key()), true, now())
        .expect("forced backup");
    let leftovers: Vec<_> = std::fs::read_dir(t.dir.path())
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn rekey_changes_the_key_verifies_it_and_audits_without_key_material() {
    let t = TestDb::new();
    let issue = t
        .tracker
        .create(&draft("Disk full", "high", "linux"))
        .expect("create");
    let path = t.path();
    drop(t.tracker);
    drop(t.db);

    let short = maintenance::rekey(&path, &key(), &Secret::new("short".into()), now());
    assert!(
        matches!(short, Err(MaintenanceError::KeyTooShort)),
        "{short:?}"
    );
    let empty = maintenance::rekey(&path, &key(), &Secret::new(String::new()), now());
    assert!(
        matches!(empty, Err(MaintenanceError::EmptyKey)),
        "{empty:?}"
    );

    // While the database is open elsewhere, nothing changes.
    {
        let busy = Database::open(&path, &key()).expect("open");
        let refused = maintenance::rekey(&path, &key(), &Secret::new(NEW_KEY.into()), now());
        assert!(
            matches!(refused, Err(MaintenanceError::InUse)),
            "{refused:?}"
        );
        drop(busy);
    }
    Database::open(&path, &key()).expect("still the old key");

    maintenance::rekey(&path, &key(), &Secret::new(NEW_KEY.into()), now()).expect("rekey");
    let old = Database::open(&path, &key());
    assert!(matches!(old, Err(OpenError::WrongKey(_))), "{old:?}");
    let message = old.expect_err("old key").to_string();
    assert!(message.contains("key is wrong"), "{message}");
    let db = Database::open(&path, &Secret::new(NEW_KEY.into())).expect("new key");
    assert_eq!(db.get_issue(issue.id).expect("get").title, "Disk full");
    let tracker = tftsr_core::IssueTracker::new(std::sync::Arc::new(db), common::StepClock::new());
    let audit = tracker.recent_audit(10).expect("audit");
    assert_eq!(audit[0].action, "db_rekeyed");
    let text = serde_json::to_string(&audit).expect("json");
    assert!(!text.contains(NEW_KEY) && !text.contains(key().expose()));
}

fn tftsr(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tftsr"));
    cmd.env("RUST_LOG", "off")
        .env("TFTSR_DATA_DIR", dir)
        .env_remove("TFTSR_DB_KEY")
        .env_remove("TFTSR_DB_KEY_FILE")
        .env_remove("TFTSR_NEW_DB_KEY");
    cmd
}

#[test]
fn the_cli_backs_up_and_rekeys_with_the_key_never_in_an_argument() {
    let t = TestDb::new();
    t.tracker
        .create(&draft("Disk full", "high", "linux"))
        .expect("create");
    let dir = t.dir.path().to_owned();
    drop(t.tracker);
    drop(t.db);

    let backup = dir.join("b.db");
    let out = tftsr(&dir)
        .env("TFTSR_DB_KEY", key().expose())
        .args(["db", "backup"])
        .arg(&backup)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    is_not_plaintext(&backup);
    assert_eq!(rows(&backup, &key()).0, 1);
    let again = tftsr(&dir)
        .env("TFTSR_DB_KEY", key().expose())
        .args(["db", "backup"])
        .arg(&backup)
        .output()
        .expect("runs");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));

    // Too short, from stdin: refused, nothing changed.
    let mut child = tftsr(&dir)
        .env("TFTSR_DB_KEY", key().expose())
        .args(["db", "rekey"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(b"tiny\n")
            .expect("write");
    }
    let out = child.wait_with_output().expect("runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("too short"), "{stderr}");
    assert!(!stderr.contains("tiny"), "{stderr}");

    // From stdin, properly.
    let mut child = tftsr(&dir)
        .env("TFTSR_DB_KEY", key().expose())
        .args(["db", "rekey"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(format!("{NEW_KEY}\n").as_bytes())
            .expect("write");
    }
    let out = child.wait_with_output().expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains(NEW_KEY));

    let old = tftsr(&dir)
        .env("TFTSR_DB_KEY", key().expose())
        .args(["db", "status"])
        .output()
        .expect("runs");
    assert!(!old.status.success());
    assert!(String::from_utf8_lossy(&old.stderr).contains("key is wrong"));
    // Back again, from the environment.
    let out = tftsr(&dir)
        .env("TFTSR_DB_KEY", NEW_KEY)
        .env("TFTSR_NEW_DB_KEY", key().expose())
        .args(["db", "rekey"])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ok = tftsr(&dir)
        .env("TFTSR_DB_KEY", key().expose())
        .args(["db", "status"])
        .output()
        .expect("runs");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    // The backup made before still opens with the key it was made with.
    assert!(dir.join(DB_FILE).exists());
}

#[test]
fn rekey_with_a_generated_key_file_updates_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A first `db migrate` creates the database and the generated key.
    let out = tftsr(dir.path())
        .args(["db", "migrate"])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key_file = dir.path().join("db.key");
    let before = std::fs::read_to_string(&key_file).expect("key file");
    let out = tftsr(dir.path())
        .env("TFTSR_NEW_DB_KEY", NEW_KEY)
        .args(["db", "rekey"])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = std::fs::read_to_string(&key_file).expect("key file");
    assert_ne!(before, after);
    assert_eq!(after.trim_end(), NEW_KEY);
    assert!(!dir.path().join("db.key.new").exists());
    let ok = tftsr(dir.path())
        .args(["db", "status"])
        .output()
        .expect("runs");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
}
