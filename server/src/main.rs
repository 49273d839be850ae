//! `tftsr`: parses the command line and runs it. All logic lives in the
//! library so tests and benches reuse it.

use clap::Parser;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = tftsr_server::config::Cli::parse();
    match tftsr_server::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // The reader went away (`tftsr scan big.log | head`): not an error.
        Err(tftsr_server::cli::CliError::Input(m)) if m.is_empty() => {
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
