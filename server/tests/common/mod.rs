//! Helpers shared by the integration tests: a real encrypted database in a
//! temporary directory and a clock the test controls.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

pub mod imagegen;
pub mod web;

use tftsr_core::{Clock, IssueDraft, IssueTracker, Timestamp};
use tftsr_server::secret::Secret;
use tftsr_server::store::{DB_FILE, Database};

/// Starts at a fixed instant and moves one second per reading, so every
/// write gets a distinct, increasing time.
pub struct StepClock(AtomicI64);

impl StepClock {
    pub fn new() -> Arc<Self> {
        Arc::new(Self(AtomicI64::new(1_795_000_000_000)))
    }
}

impl Clock for StepClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix_millis(self.0.fetch_add(1_000, Ordering::SeqCst)).expect("in range")
    }
}

pub struct TestDb {
    pub dir: tempfile::TempDir,
    pub db: Arc<Database>,
    pub tracker: IssueTracker,
    /// Tests with a database run one at a time: with several threads
    /// opening and closing SQLCipher databases at once, keying a new
    /// connection occasionally fails inside SQLCipher ("An error occurred
    /// with PRAGMA key or rekey"). The server opens its one database once,
    /// at start-up, so only tests meet this.
    _serial: std::sync::MutexGuard<'static, ()>,
}

static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub fn key() -> Secret {
    Secret::new("correct horse battery staple".into())
}

impl TestDb {
    pub fn new() -> Self {
        let serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Arc::new(Database::open(&dir.path().join(DB_FILE), &key()).expect("open"));
        let tracker = IssueTracker::new(db.clone(), StepClock::new());
        Self {
            dir,
            db,
            tracker,
            _serial: serial,
        }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join(DB_FILE)
    }
}

pub fn draft(title: &str, severity: &str, domain: &str) -> IssueDraft {
    IssueDraft {
        title: title.into(),
        description: format!("Description of {title}"),
        severity: severity.into(),
        domain: domain.into(),
        tags: "prod".into(),
        ..Default::default()
    }
}
