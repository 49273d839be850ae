//! Command line and environment. Every flag has a `TFTSR_*` variable; secrets
//! come from a variable or from a `*_FILE` holding them, never from a flag
//! (flags show up in `ps`).

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "tftsr",
    version,
    about = "Incident triage to root cause and post-mortem, locally and encrypted."
)]
pub struct Cli {
    #[command(flatten)]
    pub data: DataArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the web app (the default when no command is given).
    Serve(ServeArgs),
    /// Inspect the encrypted database.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
    /// Print the PII and secrets in a log as JSON lines
    /// {"type","start","end","line"} (byte offsets into the file, end
    /// exclusive; 1-based line). Reads stdin when FILE is `-`.
    Scan(ScanArgs),
    /// Write a log with its PII and secrets replaced by placeholders
    /// ([EMAIL_1], the same value always the same placeholder).
    Redact(RedactArgs),
    /// Export an issue's RCA or post-mortem to Markdown, PDF or DOCX
    /// (drafted from the issue's data first if it has none yet). The export
    /// is recorded in the issue's history.
    Export(ExportArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// The issue's id (shown in its URL).
    pub issue: String,
    /// Which document: rca or postmortem.
    #[arg(long, default_value = "rca")]
    pub doc: String,
    /// markdown (md), pdf or docx.
    #[arg(long, default_value = "pdf")]
    pub format: String,
    /// Where to write; a name made from the title in the current directory
    /// when absent; stdout when `-`.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct ScanArgs {
    /// The log file (plain, UTF-16 or gzip), or `-` for stdin.
    pub file: PathBuf,
    /// Add each finding's text as "value". Off by default: the output is
    /// then free of the secrets it points at.
    #[arg(long)]
    pub show_values: bool,
}

#[derive(Debug, Clone, Args)]
pub struct RedactArgs {
    /// The log file (plain, UTF-16 or gzip), or `-` for stdin.
    pub file: PathBuf,
    /// Where to write; stdout when absent or `-`.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Replace every finding with its type only ([EMAIL]) instead of a
    /// numbered placeholder.
    #[arg(long)]
    pub mask: bool,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// List applied and pending migrations, and the cipher in use.
    Status,
    /// Apply pending migrations and exit.
    Migrate,
    /// Change the database key. The new key is read from TFTSR_NEW_DB_KEY
    /// or stdin, never from an argument; stop the server first.
    Rekey,
    /// Write an encrypted backup (same key) to FILE.
    Backup(BackupArgs),
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The backup file to write.
    pub file: PathBuf,
    /// Replace FILE if it exists.
    #[arg(long)]
    pub force: bool,
}

/// Where the data lives and how it is unlocked.
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// Directory of the encrypted database and the generated key file.
    /// Defaults to the platform's data directory (e.g. ~/.local/share/tftsr).
    #[arg(long, env = "TFTSR_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on. Anything other than loopback exposes your
    /// incidents to the network; the access token still guards them.
    #[arg(long, env = "TFTSR_BIND", default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub bind: IpAddr,

    /// Port to listen on; 0 picks a free one.
    #[arg(long, env = "TFTSR_PORT", default_value_t = 3000)]
    pub port: u16,

    /// Extra host names the server answers to (besides 127.0.0.1, localhost
    /// and [::1]), e.g. when behind a local reverse proxy.
    #[arg(
        long = "allow-host",
        env = "TFTSR_ALLOWED_HOSTS",
        value_delimiter = ','
    )]
    pub allowed_hosts: Vec<String>,

    /// Directory holding the compiled site (wasm, JS, CSS, icons).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// Largest log upload, in MiB (one request, all its files).
    #[arg(long, env = "TFTSR_MAX_UPLOAD_MIB", default_value_t = 2048)]
    pub max_upload_mib: u64,
}

impl Default for ServeArgs {
    fn default() -> Self {
        Self {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 3000,
            allowed_hosts: Vec::new(),
            site_root: PathBuf::from("target/site"),
            max_upload_mib: 2048,
        }
    }
}

impl DataArgs {
    /// The data directory, created on first use by the caller.
    pub fn resolve_data_dir(&self) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(|| {
            dirs::data_dir()
                .unwrap_or_else(|| PathBuf::from("."))
                .join("tftsr")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_subcommand_means_serve_with_loopback_defaults() {
        let cli = Cli::try_parse_from(["tftsr"]).expect("parses");
        assert!(cli.command.is_none());
        let serve = ServeArgs::default();
        assert!(serve.bind.is_loopback());
    }

    #[test]
    fn serve_flags_parse() {
        let cli = Cli::try_parse_from([
            "tftsr",
            "serve",
            "--port",
            "0",
            "--bind",
            "::1",
            "--allow-host",
            "tftsr.local,box",
        ])
        .expect("parses");
        let Some(Command::Serve(args)) = cli.command else {
            panic!("serve expected")
        };
        assert_eq!(args.port, 0);
        assert_eq!(args.allowed_hosts, vec!["tftsr.local", "box"]);
    }

    #[test]
    fn no_key_flag_exists() {
        assert!(Cli::try_parse_from(["tftsr", "--db-key", "x"]).is_err());
    }
}
