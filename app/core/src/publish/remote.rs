//! What a remote's refusal means. Each tool has its own JSON error body;
//! the message is taken from it (cut, and quoted as text), the status
//! decides the kind. The server removes the token from any message before
//! it goes anywhere, in case a remote echoes it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Service, cut_chars};

/// Why a call to a remote failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RemoteErrorKind {
    /// 401/403: the token or user name is wrong, or lacks the permission.
    Auth,
    /// 404: the space, project, table or item does not exist.
    NotFound,
    /// 400/409/422: the remote refused the content.
    Rejected,
    /// 429 or 5xx: the remote is struggling.
    Server,
    Timeout,
    Unreachable,
    /// A reply that is not what the API sends.
    Malformed,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct RemoteError {
    pub kind: RemoteErrorKind,
    pub message: String,
}

impl RemoteError {
    pub fn new(kind: RemoteErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// The reply was not the JSON the API documents.
    pub fn malformed(service: Service, what: &str) -> Self {
        Self::new(
            RemoteErrorKind::Malformed,
            format!(
                "{} sent a reply TFTSR does not understand ({what}). Check the address: it may \
                 point at a login page or a proxy rather than the API.",
                service.label()
            ),
        )
    }
}

/// The result of "Test connection".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionOutcome {
    Ok,
    AuthRefused,
    NotFound,
    Unreachable,
    Malformed,
    Failed,
}

impl ConnectionOutcome {
    pub fn from_error(kind: RemoteErrorKind) -> Self {
        match kind {
            RemoteErrorKind::Auth => Self::AuthRefused,
            RemoteErrorKind::NotFound => Self::NotFound,
            RemoteErrorKind::Timeout | RemoteErrorKind::Unreachable => Self::Unreachable,
            RemoteErrorKind::Malformed => Self::Malformed,
            RemoteErrorKind::Rejected | RemoteErrorKind::Server => Self::Failed,
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::AuthRefused => "auth_refused",
            Self::NotFound => "not_found",
            Self::Unreachable => "unreachable",
            Self::Malformed => "malformed",
            Self::Failed => "failed",
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            Self::Ok => "Connection works",
            Self::AuthRefused => "Authentication refused",
            Self::NotFound => "Not found",
            Self::Unreachable => "Unreachable",
            Self::Malformed => "Unexpected reply",
            Self::Failed => "Failed",
        }
    }
}

/// Control characters out, length capped: remote text shown as text.
fn clean(text: &str) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    cut_chars(
        flat.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .as_str(),
        300,
    )
}

fn str_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The message in a remote's error body, if it has one.
pub fn error_message(service: Service, body: &[u8]) -> Option<String> {
    let json: Value = serde_json::from_slice(body).ok()?;
    let message = match service {
        // {"statusCode":401,"message":"…"} and, on newer endpoints,
        // {"errors":[{"title":"…"}]}.
        Service::Confluence => str_at(&json, "/message")
            .or_else(|| str_at(&json, "/errors/0/title"))
            .or_else(|| str_at(&json, "/data/errors/0/message/translation"))
            .map(str::to_owned),
        // {"error":{"message":"…","detail":"…"},"status":"failure"}
        Service::ServiceNow => {
            let message = str_at(&json, "/error/message");
            let detail = str_at(&json, "/error/detail");
            match (message, detail) {
                (Some(m), Some(d)) if m != d => Some(format!("{m}: {d}")),
                (Some(m), _) => Some(m.to_owned()),
                (None, Some(d)) => Some(d.to_owned()),
                (None, None) => None,
            }
        }
        // {"$id":"1","message":"…","typeKey":"…","errorCode":0}
        Service::AzureDevOps => str_at(&json, "/message").map(str::to_owned),
    }?;
    Some(clean(&message))
}

/// Maps an error reply (status and body) to a message people can act on.
/// `what` names the thing asked for ("space OPS", "project Site Ops").
pub fn error_from_reply(service: Service, status: u16, body: &[u8], what: &str) -> RemoteError {
    let label = service.label();
    let said = error_message(service, body)
        .map(|m| format!(" {label} said: \u{201C}{m}\u{201D}"))
        .unwrap_or_default();
    let (kind, text) = match status {
        401 => (
            RemoteErrorKind::Auth,
            format!(
                "{label} refused the credentials (401). Check the user name and token in Settings → Integrations."
            ),
        ),
        403 => (
            RemoteErrorKind::Auth,
            format!(
                "{label} refused access (403): the account lacks permission for {what}, or the token has expired."
            ),
        ),
        404 => (
            RemoteErrorKind::NotFound,
            format!(
                "{label} found no {what} (404). Check the address and the names in Settings → Integrations."
            ),
        ),
        400 | 409 | 412 | 413 | 422 => (
            RemoteErrorKind::Rejected,
            format!("{label} refused the request ({status})."),
        ),
        429 => (
            RemoteErrorKind::Server,
            format!("{label} is rate limiting requests (429). Try again in a minute."),
        ),
        500..=599 => (
            RemoteErrorKind::Server,
            format!("{label} had a server error ({status}). Try again later."),
        ),
        _ => (
            RemoteErrorKind::Malformed,
            format!("{label} answered with an unexpected status ({status})."),
        ),
    };
    RemoteError::new(kind, format!("{text}{said}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_come_from_each_error_body() {
        let e = error_from_reply(
            Service::Confluence,
            401,
            br#"{"statusCode":401,"message":"Client must be authenticated to access this resource."}"#,
            "space OPS",
        );
        assert_eq!(e.kind, RemoteErrorKind::Auth);
        assert!(e.message.contains("Client must be authenticated"), "{e}");
        let e = error_from_reply(
            Service::ServiceNow,
            400,
            br#"{"error":{"message":"Invalid table","detail":"table incidentx not found"},"status":"failure"}"#,
            "table",
        );
        assert_eq!(e.kind, RemoteErrorKind::Rejected);
        assert!(
            e.message
                .contains("Invalid table: table incidentx not found"),
            "{e}"
        );
        let e = error_from_reply(
            Service::AzureDevOps,
            404,
            br#"{"$id":"1","message":"TF200016: The following project does not exist: Nope.","typeKey":"ProjectDoesNotExistWithNameException","errorCode":0}"#,
            "project Nope",
        );
        assert_eq!(e.kind, RemoteErrorKind::NotFound);
        assert!(e.message.contains("TF200016"), "{e}");
    }

    #[test]
    fn html_and_garbage_bodies_give_the_status_only() {
        let e = error_from_reply(Service::ServiceNow, 503, b"<html>down</html>", "x");
        assert_eq!(e.kind, RemoteErrorKind::Server);
        assert!(!e.message.contains("html"));
        let e = error_from_reply(Service::Confluence, 302, b"", "x");
        assert_eq!(e.kind, RemoteErrorKind::Malformed);
    }

    #[test]
    fn remote_text_is_flattened_and_cut() {
        let long = format!(r#"{{"message":"line1\nline2\u0007 {}"}}"#, "x".repeat(1000));
        let m = error_message(Service::AzureDevOps, long.as_bytes()).expect("message");
        assert!(m.starts_with("line1 line2 x"));
        assert!(m.chars().count() <= 300);
        assert!(!m.contains('\n'));
    }

    #[test]
    fn outcomes_from_kinds() {
        assert_eq!(
            ConnectionOutcome::from_error(RemoteErrorKind::Auth),
            ConnectionOutcome::AuthRefused
        );
        assert_eq!(
            ConnectionOutcome::from_error(RemoteErrorKind::Timeout).as_str(),
            "unreachable"
        );
    }
}
