//! The commands: `serve` (the default), `db status|migrate`, and `scan` /
//! `redact` (in [`crate::scan_cli`]).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tftsr_app::services::Services;
use tftsr_core::IssueTracker;

use crate::blobs::{BlobKey, BlobStore};
use crate::clock::SystemClock;
use crate::config::{Cli, Command, DataArgs, DbCommand, ExportArgs, ServeArgs};
use crate::credentials::Credentials;
use crate::documents::Documents;
use crate::hardware::HardwareProbe;
use crate::logs::Logs;
use crate::ollama::OllamaManager;
use crate::secret::Secret;
use crate::security::Policy;
use crate::store::key::{self, KeyError, KeyInputs, KeySource};
use crate::store::migrate::{MigrationError, MigrationState};
use crate::store::{DB_FILE, Database, OpenError};
use crate::system::LocalSystem;
use crate::triage::{TriageEngine, Triages};

pub const ACCESS_TOKEN_ENV: &str = "TFTSR_ACCESS_TOKEN";
const ACCESS_TOKEN_SETTING: &str = "access_token";
const BLOB_KEY_SETTING: &str = "blob_key";

/// Why a command failed, in words for the person who ran it.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error(transparent)]
    Migration(#[from] MigrationError),
    #[error("{0}")]
    Store(#[from] tftsr_core::StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the server stopped: {0}")]
    Serve(std::io::Error),
    #[error("cannot open the content store: {0}")]
    Blobs(String),
    #[error("{0}")]
    Input(String),
    #[error("cannot start: {0}")]
    Setup(String),
    #[error(transparent)]
    Maintenance(#[from] crate::store::maintenance::MaintenanceError),
}

pub async fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        None => serve(&cli.data, ServeArgs::default()).await,
        Some(Command::Serve(args)) => serve(&cli.data, args).await,
        Some(Command::Db { command }) => db(&cli.data, command),
        Some(Command::Scan(args)) => crate::scan_cli::scan(&args),
        Some(Command::Redact(args)) => crate::scan_cli::redact(&args),
        Some(Command::Export(args)) => export(&cli.data, args).await,
    }
}

/// Creates the data directory (owner-only) if needed.
fn ensure_data_dir(dir: &Path) -> Result<(), CliError> {
    let err = |source| CliError::DataDir {
        path: dir.to_owned(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir).map_err(err)?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(err)?;
        }
    }
    Ok(())
}

/// Resolves the key and opens (migrating) the database in the data directory.
pub fn open_database(
    data: &DataArgs,
    migrate: bool,
) -> Result<(Arc<Database>, KeySource), CliError> {
    let dir = data.resolve_data_dir();
    ensure_data_dir(&dir)?;
    let db_path = dir.join(DB_FILE);
    let (key, source) = key::resolve(KeyInputs::from_env(), &dir, &db_path)?;
    let db = if migrate {
        Database::open(&db_path, &key)?
    } else {
        Database::open_unmigrated(&db_path, &key)?
    };
    Ok((Arc::new(db), source))
}

/// The per-install access token: from `TFTSR_ACCESS_TOKEN`, else stored in the
/// (encrypted) database, created on first start.
fn access_token(db: &Database) -> Result<Secret, CliError> {
    if let Ok(t) = std::env::var(ACCESS_TOKEN_ENV)
        && !t.is_empty()
    {
        return Ok(Secret::new(t));
    }
    if let Some(t) = db.setting(ACCESS_TOKEN_SETTING)? {
        return Ok(Secret::new(t));
    }
    let token = Secret::random_hex();
    let now = tftsr_core::Clock::now(&SystemClock);
    db.set_setting(ACCESS_TOKEN_SETTING, token.expose(), now)?;
    Ok(token)
}

/// The services the web app runs on, plus the log service the upload
/// route needs directly.
#[derive(Clone)]
pub struct AppParts {
    pub services: Services,
    pub logs: Arc<Logs>,
    /// The MCP connections, to discover at start-up and close at shutdown.
    pub mcp: Arc<crate::mcp::McpManager>,
    /// Image attachments, for their upload and viewing routes.
    pub images: Arc<crate::attachments::Images>,
}

/// The master key of the blob store, kept in the encrypted database and
/// created on first use.
fn blob_key(db: &Database) -> Result<BlobKey, CliError> {
    if let Some(text) = db.setting(BLOB_KEY_SETTING)? {
        return BlobKey::from_hex(&text).ok_or_else(|| {
            CliError::Blobs("the stored blob key is unreadable; the database is damaged".into())
        });
    }
    let key = BlobKey::random();
    let now = tftsr_core::Clock::now(&SystemClock);
    db.set_setting(BLOB_KEY_SETTING, &key.to_hex(), now)?;
    Ok(key)
}

/// Wires the adapters: tracker, system facts, and log files whose content
/// lives in `data_dir/blobs`.
pub fn services(
    db: Arc<Database>,
    key_source: KeySource,
    data_dir: &Path,
    max_upload: u64,
) -> Result<AppParts, CliError> {
    let clock: Arc<dyn tftsr_core::Clock> = Arc::new(SystemClock);
    let blobs = BlobStore::open(&data_dir.join("blobs"), &blob_key(&db)?)
        .map_err(|e| CliError::Blobs(e.to_string()))?;
    let images = Arc::new(crate::attachments::Images::new(
        db.clone(),
        blobs.clone(),
        clock.clone(),
    ));
    let logs = Arc::new(Logs::new(db.clone(), blobs, clock.clone(), max_upload)?);
    let credentials = Credentials::load_or_create(&db, clock.now())
        .map_err(|e| CliError::Setup(e.to_string()))?;
    let runtime = tokio::runtime::Handle::try_current()
        .map_err(|_| CliError::Setup("the triage service needs a Tokio runtime".into()))?;
    let client = crate::providers::HttpClient::new(crate::providers::ClientConfig::default())
        .map_err(|e| CliError::Setup(e.to_string()))?;
    let engine = TriageEngine::new(
        db.clone(),
        logs.clone(),
        clock.clone(),
        credentials.clone(),
        crate::triage::http_factory(client.clone()),
        runtime.clone(),
    )
    .map_err(|e| CliError::Setup(e.to_string()))?;
    let mcp = Arc::new(
        crate::mcp::McpManager::new(
            db.clone(),
            credentials.clone(),
            clock.clone(),
            crate::mcp::McpTimeouts::default(),
        )
        .map_err(|e| CliError::Setup(e.to_string()))?,
    );
    let tool_calls = Arc::new(
        crate::mcp::ToolCalls::new(mcp.clone(), db.clone(), logs.clone(), clock.clone())
            .map_err(|e| CliError::Setup(e.to_string()))?,
    );
    let engine = engine.with_tools(tool_calls.clone());
    let triages = Arc::new(Triages(Arc::new(engine)));
    let documents =
        Documents::new(db.clone(), logs.clone(), clock.clone()).with_drafter(triages.clone());
    let integrations = crate::integrations::Integrations::new(
        db.clone(),
        logs.clone(),
        images.clone(),
        credentials.clone(),
        client.clone(),
        clock.clone(),
    );
    let ollama = OllamaManager::new(
        db.clone(),
        credentials,
        client,
        clock.clone(),
        HardwareProbe::default(),
        runtime,
    );
    Ok(AppParts {
        services: Services {
            tracker: IssueTracker::new(db.clone(), clock),
            system: Arc::new(LocalSystem { db, key_source }),
            logs: logs.clone(),
            triage: triages,
            ollama: Arc::new(ollama),
            documents: Arc::new(documents),
            mcp: Arc::new(crate::mcp::McpPanel::new(tool_calls)),
            integrations: Arc::new(integrations),
            images: images.clone(),
        },
        logs,
        mcp,
        images,
    })
}

async fn serve(data: &DataArgs, args: ServeArgs) -> Result<(), CliError> {
    let (db, key_source) = open_database(data, true)?;
    tracing::info!(path = %db.path().display(), key = %key_source, "database open");
    let token = access_token(&db)?;

    let addr = SocketAddr::new(args.bind, args.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| CliError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| CliError::Bind { addr, source })?;
    if !args.bind.is_loopback() {
        tracing::warn!(%local, "listening beyond loopback: anyone who can reach this address and has the token can use TFTSR");
    }
    let max_upload = args.max_upload_mib.saturating_mul(1024 * 1024);
    let policy =
        Arc::new(Policy::new(local.port(), &args.allowed_hosts, token).with_max_upload(max_upload));
    let options = crate::web::leptos_options(&args.site_root.to_string_lossy(), local);
    let parts = services(db, key_source, &data.resolve_data_dir(), max_upload)?;
    let mcp = parts.mcp.clone();
    // In the background: the page is up before a slow server answers.
    let discovery = mcp.spawn_startup_discovery();
    let app = crate::web::router(parts, options, policy.clone());

    let host = if local.ip().is_loopback() {
        "127.0.0.1".to_owned()
    } else {
        local.ip().to_string()
    };
    // Printed, not logged: the link carries the access token, and log files
    // must never hold secrets.
    println!(
        "\nTFTSR is running. Open this link in your browser:\n\n    http://{host}:{}/?token={}\n",
        local.port(),
        policy.token().expose()
    );
    tracing::info!(%local, "listening");

    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(CliError::Serve);
    // Stdio servers are child processes: end them with us.
    discovery.abort();
    mcp.shutdown().await;
    served
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down");
}

/// `tftsr export ISSUE --doc rca --format pdf -o FILE`.
async fn export(data: &DataArgs, args: ExportArgs) -> Result<(), CliError> {
    use std::io::Write;
    use tftsr_core::doc::DocumentKind;
    use tftsr_core::doc::export::ExportFormat;

    let issue = tftsr_core::IssueId::parse(args.issue.trim())
        .ok_or_else(|| CliError::Input(format!("{:?} is not an issue id", args.issue)))?;
    let kind = match args.doc.trim().to_ascii_lowercase().as_str() {
        "rca" => DocumentKind::Rca,
        "postmortem" | "post-mortem" | "post_mortem" => DocumentKind::PostMortem,
        other => {
            return Err(CliError::Input(format!(
                "--doc {other:?}: choose rca or postmortem"
            )));
        }
    };
    let format = match args.format.trim().to_ascii_lowercase().as_str() {
        "md" | "markdown" => ExportFormat::Markdown,
        "pdf" => ExportFormat::Pdf,
        "docx" | "word" => ExportFormat::Docx,
        other => {
            return Err(CliError::Input(format!(
                "--format {other:?}: choose markdown, pdf or docx"
            )));
        }
    };
    let (db, _) = open_database(data, true)?;
    let docs = documents(db, &data.resolve_data_dir())?;
    let file = tokio::task::spawn_blocking(move || docs.export_file(issue, kind, format, "cli"))
        .await
        .map_err(|e| CliError::Setup(e.to_string()))?
        .map_err(|e| CliError::Input(e.to_string()))?;
    match args.output.as_deref() {
        Some(path) if path == Path::new("-") => std::io::stdout()
            .write_all(&file.bytes)
            .map_err(|e| CliError::Input(format!("cannot write to stdout: {e}")))?,
        _ => {
            let path = args
                .output
                .clone()
                .unwrap_or_else(|| PathBuf::from(&file.file_name));
            write_file_atomically(&path, &file.bytes)?;
            eprintln!("wrote {} ({} bytes)", path.display(), file.bytes.len());
        }
    }
    Ok(())
}

/// The document service alone, for `tftsr export`.
fn documents(db: Arc<Database>, data_dir: &Path) -> Result<Documents, CliError> {
    let clock: Arc<dyn tftsr_core::Clock> = Arc::new(SystemClock);
    let blobs = BlobStore::open(&data_dir.join("blobs"), &blob_key(&db)?)
        .map_err(|e| CliError::Blobs(e.to_string()))?;
    let logs = Arc::new(Logs::new(db.clone(), blobs, clock.clone(), u64::MAX)?);
    Ok(Documents::new(db, logs, clock))
}

/// Writes beside the target and renames, so a full disk or an interrupted
/// run never leaves half a file under the final name.
fn write_file_atomically(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    use std::io::Write;
    let err = |e: std::io::Error| CliError::Input(format!("cannot write {}: {e}", path.display()));
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(err)?;
    tmp.write_all(bytes).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

fn db(data: &DataArgs, command: DbCommand) -> Result<(), CliError> {
    match command {
        DbCommand::Status => {
            let (db, source) = open_database(data, false)?;
            let info = db.cipher_info()?;
            println!("database:   {}", db.path().display());
            println!("key:        {source}");
            println!(
                "cipher:     SQLCipher {} (SQLite {}), page size {}, {} with {} iterations, {}",
                info.cipher_version,
                info.sqlite_version,
                info.page_size,
                info.kdf,
                info.kdf_iter,
                info.hmac
            );
            println!("migrations:");
            for m in db.migration_status()? {
                match m.state {
                    MigrationState::Applied { applied_at } => {
                        println!("  applied  {}  {applied_at}", m.name)
                    }
                    MigrationState::Pending => println!("  pending  {}", m.name),
                }
            }
            Ok(())
        }
        DbCommand::Migrate => {
            let (db, _) = open_database(data, true)?;
            let pending = db
                .migration_status()?
                .iter()
                .filter(|m| m.state == MigrationState::Pending)
                .count();
            println!(
                "database {} is up to date ({pending} pending)",
                db.path().display()
            );
            Ok(())
        }
        DbCommand::Rekey => rekey(data),
        DbCommand::Backup(args) => {
            let dir = data.resolve_data_dir();
            let db_path = dir.join(DB_FILE);
            if !db_path.exists() {
                return Err(
                    crate::store::maintenance::MaintenanceError::NoDatabase(db_path).into(),
                );
            }
            let (key, _) = key::resolve(KeyInputs::from_env(), &dir, &db_path)?;
            let db = Database::open_unmigrated(&db_path, &key)?;
            let now = tftsr_core::Clock::now(&SystemClock);
            let info = db.backup_to(&args.file, Some(&key), args.force, now)?;
            println!(
                "wrote {} ({} bytes, SHA-256 {}); it opens with the current key",
                info.path.display(),
                info.size,
                info.sha256
            );
            Ok(())
        }
    }
}

/// The new key for `db rekey`: `TFTSR_NEW_DB_KEY`, else one line of stdin.
fn read_new_key() -> Result<Secret, CliError> {
    use crate::store::maintenance::NEW_KEY_ENV;
    use std::io::{BufRead, IsTerminal};
    if let Ok(k) = std::env::var(NEW_KEY_ENV) {
        return Ok(Secret::new(k));
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("New database key (the input is shown; prefer {NEW_KEY_ENV} or a pipe): ");
    }
    let mut line = zeroize::Zeroizing::new(String::new());
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::Input(format!("cannot read the new key from stdin: {e}")))?;
    Ok(Secret::new(line.trim_end_matches(['\r', '\n']).to_owned()))
}

/// `tftsr db rekey`: changes the key, then updates the generated key file
/// if that is where the key came from.
fn rekey(data: &DataArgs) -> Result<(), CliError> {
    use crate::store::maintenance::{self, MaintenanceError};
    let dir = data.resolve_data_dir();
    let db_path = dir.join(DB_FILE);
    if !db_path.exists() {
        return Err(MaintenanceError::NoDatabase(db_path).into());
    }
    let (old, source) = key::resolve(KeyInputs::from_env(), &dir, &db_path)?;
    let new = read_new_key()?;
    maintenance::validate_new_key(&new)?;
    // The generated key file is replaced only once the database has the new
    // key; the new key is written beside it first, so it is never lost.
    let pending = match &source {
        KeySource::Generated(path) => {
            let next = path.with_extension("key.new");
            let _ = std::fs::remove_file(&next);
            key::write_private(&next, new.expose()).map_err(|source| KeyError::WriteFile {
                path: next.clone(),
                source,
            })?;
            Some((next, path.clone()))
        }
        _ => None,
    };
    let now = tftsr_core::Clock::now(&SystemClock);
    if let Err(e) = maintenance::rekey(&db_path, &old, &new, now) {
        if let (Some((next, _)), false) = (&pending, matches!(e, MaintenanceError::VerifyFailed)) {
            let _ = std::fs::remove_file(next);
        }
        return Err(e.into());
    }
    match pending {
        Some((next, path)) => {
            std::fs::rename(&next, &path).map_err(|source| KeyError::WriteFile {
                path: path.clone(),
                source,
            })?;
            println!("database key changed; the new key is in {}", path.display());
        }
        None => {
            println!("database key changed; update {source} to the new key before the next start")
        }
    }
    Ok(())
}
