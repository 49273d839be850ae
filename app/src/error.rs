//! The error every server function returns. Its messages are written for the
//! person in front of the browser and never carry internals; the server logs
//! those separately.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};
use tftsr_core::{StoreError, StoreErrorKind, TrackerError, ValidationError};

/// A field-level validation problem, as sent to the browser.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl From<ValidationError> for FieldError {
    fn from(e: ValidationError) -> Self {
        Self {
            field: e.field.to_owned(),
            message: e.message,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Please correct the highlighted fields.")]
    Invalid(Vec<FieldError>),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// The request itself was wrong (a malformed id, say).
    #[error("{0}")]
    BadRequest(String),
    /// The store or another dependency failed; the message is safe to show.
    #[error("{0}")]
    Unavailable(String),
    /// Transport-level failure from the server-function machinery.
    #[error("The request failed: {0}")]
    Request(String),
}

impl AppError {
    /// The message for one field, if it had a problem.
    pub fn field(&self, name: &str) -> Option<String> {
        match self {
            AppError::Invalid(errors) => errors
                .iter()
                .find(|e| e.field == name)
                .map(|e| e.message.clone()),
            _ => None,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        let message = match value {
            ServerFnErrorErr::Request(_) => "the server could not be reached".to_owned(),
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::Deserialization(_) => {
                "the form data was not understood".to_owned()
            }
            other => other.to_string(),
        };
        AppError::Request(message)
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e.kind() {
            StoreErrorKind::NotFound => AppError::NotFound(e.message().to_owned()),
            StoreErrorKind::Conflict => AppError::Conflict(e.message().to_owned()),
            _ => AppError::Unavailable(e.message().to_owned()),
        }
    }
}

impl From<TrackerError> for AppError {
    fn from(e: TrackerError) -> Self {
        match e {
            TrackerError::Invalid(errors) => {
                AppError::Invalid(errors.into_iter().map(FieldError::from).collect())
            }
            TrackerError::Store(e) => e.into(),
        }
    }
}
