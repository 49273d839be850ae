//! Publishing documents and incidents to the tools teams already use:
//! Confluence (a page in a space), ServiceNow (an incident) and Azure
//! DevOps (a work item). Everything here is pure: validation of the
//! settings form, the request bodies each API expects (built from the
//! document's Markdown and the issue), the replies and error bodies they
//! send back. The server moves the bytes (`server/src/integrations/`),
//! after the PII gate and an audit entry.
//!
//! * [`config`]: the settings form and its validation;
//! * [`storage`]: Markdown → Confluence storage format (XHTML) and the
//!   plain HTML Azure DevOps shows;
//! * [`confluence`], [`servicenow`], [`azure_devops`]: bodies and replies;
//! * [`remote`]: what a remote error means, with the message from its
//!   JSON error body.

pub mod azure_devops;
pub mod config;
pub mod confluence;
pub mod remote;
pub mod servicenow;
pub mod storage;

use serde::{Deserialize, Serialize};

use crate::IssueId;
use crate::doc::DocumentKind;
use crate::issue::Severity;

pub use config::{IntegrationDraft, ValidIntegration};
pub use remote::{ConnectionOutcome, RemoteError, RemoteErrorKind};

/// A tool TFTSR publishes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    Confluence,
    ServiceNow,
    AzureDevOps,
}

impl Service {
    pub const ALL: [Service; 3] = [Self::Confluence, Self::ServiceNow, Self::AzureDevOps];

    /// The spelling used by the database, the wire and URLs.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Confluence => "confluence",
            Self::ServiceNow => "servicenow",
            Self::AzureDevOps => "azure_devops",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub const fn label(self) -> &'static str {
        match self {
            Self::Confluence => "Confluence",
            Self::ServiceNow => "ServiceNow",
            Self::AzureDevOps => "Azure DevOps",
        }
    }

    /// What a publish makes there.
    pub const fn item(self) -> &'static str {
        match self {
            Self::Confluence => "page",
            Self::ServiceNow => "incident",
            Self::AzureDevOps => "work item",
        }
    }

    /// Whether the service files an item per issue (and so may be created
    /// automatically when the issue is resolved). A Confluence page is a
    /// document and is updated by publishing again.
    pub const fn tracks_issues(self) -> bool {
        !matches!(self, Self::Confluence)
    }
}

/// What leaves the machine in a publish: the document as the engineer left
/// it, and the issue facts the item links back with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishInput {
    pub issue_id: IssueId,
    pub issue_title: String,
    pub severity: Severity,
    /// `None` for an item created on resolve, from the issue alone.
    pub kind: Option<DocumentKind>,
    /// The document's title (its first `# ` heading).
    pub title: String,
    /// The document's Markdown (or the issue's description).
    pub markdown: String,
    /// The names of the cleared images sent with it (their bytes travel
    /// as [`FileUpload`]s); the names are user text and pass the gate.
    pub images: Vec<String>,
}

impl PublishInput {
    /// The line every published item carries so people can find the issue
    /// in TFTSR again.
    pub fn backlink(&self) -> String {
        match self.kind {
            Some(kind) => format!(
                "Published from TFTSR: {} of issue {} ({}).",
                kind.label(),
                self.issue_id,
                self.issue_title
            ),
            None => format!(
                "Created by TFTSR when issue {} ({}) was resolved.",
                self.issue_id, self.issue_title
            ),
        }
    }

    /// `rca`, `post_mortem`, or `issue` for an item created on resolve.
    pub fn doc_type(&self) -> &'static str {
        self.kind.map_or("issue", DocumentKind::as_str)
    }
}

/// A request about to leave, as data: the server attaches the credentials
/// and sends it. `gated_text` is every piece of user text the request
/// carries, as it will be sent; it must pass the PII gate first.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboundRequest {
    pub method: HttpMethod,
    /// Path and query after the base URL, already percent-encoded.
    pub path: String,
    pub content_type: &'static str,
    pub body: Option<serde_json::Value>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpMethod {
    Get,
    Post,
    Put,
}

/// A file sent as it is (an image attachment), as data: the server adds
/// the credentials and the bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileUpload {
    pub method: HttpMethod,
    /// Path and query after the base URL, already percent-encoded.
    pub path: String,
    /// `Some(field)`: a `multipart/form-data` body with the file under
    /// `field` (Confluence); `None`: the bytes as the body.
    pub multipart_field: Option<&'static str>,
    /// The body's type (or the file part's, in a multipart body).
    pub content_type: &'static str,
    pub file_name: String,
    /// Headers the API requires besides the credentials.
    pub headers: &'static [(&'static str, &'static str)],
}

/// A published (or created) remote item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteItem {
    /// The remote's id: Confluence page id, ServiceNow `sys_id`, Azure
    /// DevOps work item id.
    pub id: String,
    /// What people call it: the page title, `INC0010001`, `#42`.
    pub label: String,
    /// Where to open it.
    pub url: String,
    /// Confluence's page version after the publish.
    pub version: Option<i64>,
}

/// Percent-encodes one path segment or query value (RFC 3986 unreserved
/// characters stay).
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Cuts `text` to at most `max` characters, on a character boundary, with
/// an ellipsis when cut.
pub fn cut_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_round_trip_their_names() {
        for s in Service::ALL {
            assert_eq!(Service::parse(s.as_str()), Some(s));
        }
        assert_eq!(Service::parse("jira"), None);
        assert!(!Service::Confluence.tracks_issues());
        assert!(Service::ServiceNow.tracks_issues());
    }

    #[test]
    fn components_are_percent_encoded() {
        assert_eq!(encode_component("User Story"), "User%20Story");
        assert_eq!(encode_component("a/b?c=d&e"), "a%2Fb%3Fc%3Dd%26e");
        assert_eq!(encode_component("Zürich"), "Z%C3%BCrich");
        assert_eq!(encode_component("ok-1.2_~"), "ok-1.2_~");
    }

    #[test]
    fn cuts_on_characters() {
        assert_eq!(cut_chars("héllo", 10), "héllo");
        assert_eq!(cut_chars("héllo wörld", 5), "héll…");
    }
}
