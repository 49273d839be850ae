//! Server-side plumbing shared by every server function: the services handed
//! in as context, and running blocking work off the async runtime.

use std::sync::Arc;

use leptos::prelude::use_context;
use tftsr_core::{IssueTracker, StoreError};

use crate::AppError;
use crate::wire::EncryptionStatus;

/// Facts about the local installation that only the server knows.
pub trait SystemInfo: Send + Sync {
    fn encryption_status(&self) -> Result<EncryptionStatus, StoreError>;
}

/// Everything a server function may use, provided as Leptos context by the
/// server binary.
#[derive(Clone)]
pub struct Services {
    pub tracker: IssueTracker,
    pub system: Arc<dyn SystemInfo>,
}

/// The nonce of the current response's Content-Security-Policy, put in the
/// request's extensions by the security middleware.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

/// The services, or an error (not a panic) if the server forgot them.
pub fn services() -> Result<Services, AppError> {
    use_context::<Services>().ok_or_else(|| {
        tracing::error!("services missing from context");
        AppError::Unavailable("The server is not configured correctly; see its log.".into())
    })
}

/// Runs blocking store work on Tokio's blocking pool.
pub async fn blocking<T, F>(f: F) -> Result<T, AppError>
where
    F: FnOnce(Services) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    let services = services()?;
    tokio::task::spawn_blocking(move || f(services))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "blocking task failed");
            AppError::Unavailable("The server hit an internal error; see its log.".into())
        })?
}
