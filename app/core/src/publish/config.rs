//! The settings of one integration as the form sends them, and their
//! validation (run by the server; every bad field is reported at once).

use serde::{Deserialize, Serialize};

use super::Service;
use crate::issue::ValidationError;

/// The longest token accepted (Confluence and Azure DevOps tokens are well
/// under 1 KiB; this only stops pasted garbage).
pub const TOKEN_MAX: usize = 4096;
/// Azure DevOps' default work item type.
pub const DEFAULT_WORK_ITEM_TYPE: &str = "Bug";

/// The form: one per service. `token` is `None` to keep the stored token,
/// `Some("")` to clear it, `Some(token)` to replace it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationDraft {
    pub base_url: String,
    /// Confluence: the space key.
    #[serde(default)]
    pub space_key: String,
    /// Azure DevOps: the project name.
    #[serde(default)]
    pub project: String,
    /// Confluence (Basic auth with an API token; empty for a Bearer
    /// personal access token) and ServiceNow (required).
    #[serde(default)]
    pub username: String,
    /// Azure DevOps: `Bug`, `Issue`, `Task`, `User Story`….
    #[serde(default)]
    pub work_item_type: String,
    #[serde(default)]
    pub auto_create_on_resolve: bool,
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub token: Option<String>,
}

/// A validated configuration (without the token, which the server keeps
/// apart, encrypted).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidIntegration {
    pub service: Service,
    /// No trailing slash.
    pub base_url: String,
    pub space_key: String,
    pub project: String,
    pub username: String,
    pub work_item_type: String,
    pub auto_create_on_resolve: bool,
    pub enabled: bool,
}

/// How a token is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthScheme {
    /// `Authorization: Basic base64(username:token)`.
    Basic,
    /// `Authorization: Bearer token`.
    Bearer,
}

impl ValidIntegration {
    pub fn auth_scheme(&self) -> AuthScheme {
        match self.service {
            Service::Confluence if self.username.is_empty() => AuthScheme::Bearer,
            // Azure DevOps: Basic with an empty user name and the PAT.
            _ => AuthScheme::Basic,
        }
    }

    /// The user name half of Basic auth.
    pub fn basic_user(&self) -> &str {
        match self.service {
            Service::AzureDevOps => "",
            _ => &self.username,
        }
    }
}

fn invalid(field: &'static str, message: impl Into<String>) -> ValidationError {
    ValidationError {
        field,
        message: message.into(),
    }
}

/// Checks a base URL: http(s), a host, no credentials, query or fragment
/// (a user name in a URL ends up in logs; the token has its own field).
/// Returns it without a trailing slash.
pub fn normalize_base_url(text: &str) -> Result<String, String> {
    let url = text.trim().trim_end_matches('/');
    if url.is_empty() {
        return Err("Enter the address, e.g. https://example.atlassian.net/wiki.".into());
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("The address must start with https:// (or http:// for a local test server).")?;
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("The address may not contain spaces.".into());
    }
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || host.starts_with(':') {
        return Err("The address has no host name.".into());
    }
    if host.contains('@') {
        return Err("Put the user name and token in their own fields, not in the address.".into());
    }
    if url.contains(['?', '#']) {
        return Err("The address may not have a query (?…) or a fragment (#…).".into());
    }
    if url.len() > 500 {
        return Err("The address is too long.".into());
    }
    Ok(url.to_owned())
}

fn plain_field(
    text: &str,
    field: &'static str,
    label: &str,
    max: usize,
    errors: &mut Vec<ValidationError>,
) -> String {
    let value = text.trim().to_owned();
    if value.chars().count() > max {
        errors.push(invalid(
            field,
            format!("{label} is at most {max} characters."),
        ));
    } else if value.chars().any(char::is_control) {
        errors.push(invalid(
            field,
            format!("{label} may not contain control characters."),
        ));
    }
    value
}

impl IntegrationDraft {
    /// Validates the form for `service`; `has_token` says whether a token is
    /// stored already (an enabled integration needs one).
    pub fn validate(
        &self,
        service: Service,
        has_token: bool,
    ) -> Result<ValidIntegration, Vec<ValidationError>> {
        let mut errors = Vec::new();
        let base_url = match normalize_base_url(&self.base_url) {
            Ok(mut url) => {
                // Confluence Cloud's REST API lives under /wiki; people often
                // paste the site's address.
                if service == Service::Confluence
                    && url.ends_with(".atlassian.net")
                    && !url.contains(".atlassian.net/")
                {
                    url.push_str("/wiki");
                }
                url
            }
            Err(message) => {
                errors.push(invalid("base_url", message));
                String::new()
            }
        };
        let mut space_key = plain_field(
            &self.space_key,
            "space_key",
            "The space key",
            255,
            &mut errors,
        );
        let mut project = plain_field(&self.project, "project", "The project", 64, &mut errors);
        let username = plain_field(
            &self.username,
            "username",
            "The user name",
            255,
            &mut errors,
        );
        let mut work_item_type = plain_field(
            &self.work_item_type,
            "work_item_type",
            "The work item type",
            128,
            &mut errors,
        );
        match service {
            Service::Confluence => {
                if space_key.is_empty() {
                    errors.push(invalid(
                        "space_key",
                        "Enter the key of the space to publish to, e.g. OPS.",
                    ));
                } else if !space_key
                    .chars()
                    .enumerate()
                    .all(|(i, c)| c.is_alphanumeric() || c == '_' || (i == 0 && c == '~'))
                {
                    errors.push(invalid(
                        "space_key",
                        "A space key is letters and digits (a personal space starts with ~).",
                    ));
                }
                project.clear();
                work_item_type.clear();
            }
            Service::ServiceNow => {
                if username.is_empty() {
                    errors.push(invalid(
                        "username",
                        "ServiceNow needs the user name the token (password) belongs to.",
                    ));
                }
                space_key.clear();
                project.clear();
                work_item_type.clear();
            }
            Service::AzureDevOps => {
                if project.is_empty() {
                    errors.push(invalid(
                        "project",
                        "Enter the project the work items go to.",
                    ));
                } else if project.contains([
                    '/', '\\', '?', '#', '%', '&', '*', ':', '<', '>', '|', '"', '\'',
                ]) {
                    errors.push(invalid(
                        "project",
                        "A project name cannot contain / \\ ? # % & * : < > | or quotes.",
                    ));
                }
                if work_item_type.is_empty() {
                    work_item_type = DEFAULT_WORK_ITEM_TYPE.to_owned();
                } else if !work_item_type
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == ' ' || c == '-' || c == '_')
                {
                    errors.push(invalid(
                        "work_item_type",
                        "A work item type is letters, digits, spaces and dashes (Bug, Issue, User Story).",
                    ));
                }
                space_key.clear();
            }
        }
        if let Some(token) = &self.token {
            let token = token.trim();
            if token.len() > TOKEN_MAX {
                errors.push(invalid(
                    "token",
                    "That token is far too long; paste it again.",
                ));
            } else if token.chars().any(char::is_control) {
                errors.push(invalid(
                    "token",
                    "A token has no line breaks or control characters; paste it again.",
                ));
            }
        }
        let token_after = match &self.token {
            Some(t) => !t.trim().is_empty(),
            None => has_token,
        };
        if self.enabled && !token_after {
            errors.push(invalid(
                "token",
                format!(
                    "{} needs a token before it can be enabled.",
                    service.label()
                ),
            ));
        }
        if self.auto_create_on_resolve && !service.tracks_issues() {
            errors.push(invalid(
                "auto_create_on_resolve",
                "Confluence pages are published from the document page, not on resolve.",
            ));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ValidIntegration {
            service,
            base_url,
            space_key,
            project,
            username: if service == Service::AzureDevOps {
                String::new()
            } else {
                username
            },
            work_item_type,
            auto_create_on_resolve: self.auto_create_on_resolve,
            enabled: self.enabled,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(errors: &[ValidationError]) -> Vec<&'static str> {
        errors.iter().map(|e| e.field).collect()
    }

    #[test]
    fn confluence_cloud_gets_wiki_and_bearer_without_a_user() {
        let draft = IntegrationDraft {
            base_url: " https://acme.atlassian.net/ ".into(),
            space_key: "OPS".into(),
            enabled: true,
            token: Some("tok".into()),
            ..Default::default()
        };
        let valid = draft.validate(Service::Confluence, false).expect("valid");
        assert_eq!(valid.base_url, "https://acme.atlassian.net/wiki");
        assert_eq!(valid.auth_scheme(), AuthScheme::Bearer);
        let with_user = IntegrationDraft {
            username: "me@acme.com".into(),
            ..draft
        };
        let valid = with_user
            .validate(Service::Confluence, false)
            .expect("valid");
        assert_eq!(valid.auth_scheme(), AuthScheme::Basic);
        assert_eq!(valid.basic_user(), "me@acme.com");
    }

    #[test]
    fn every_bad_field_is_reported() {
        let draft = IntegrationDraft {
            base_url: "ftp://x".into(),
            space_key: "O PS<".into(),
            enabled: true,
            auto_create_on_resolve: true,
            ..Default::default()
        };
        let errors = draft
            .validate(Service::Confluence, false)
            .expect_err("invalid");
        assert_eq!(
            fields(&errors),
            ["base_url", "space_key", "token", "auto_create_on_resolve"]
        );
    }

    #[test]
    fn urls_with_credentials_queries_or_no_host_are_refused() {
        for bad in [
            "",
            "acme.service-now.com",
            "https://user:pw@acme.service-now.com",
            "https://acme.service-now.com/?x=1",
            "https://",
            "https://a b.com",
        ] {
            assert!(normalize_base_url(bad).is_err(), "{bad}");
        }
        assert_eq!(
            normalize_base_url("http://127.0.0.1:8080/").as_deref(),
            Ok("http://127.0.0.1:8080")
        );
    }

    #[test]
    fn servicenow_needs_a_user_and_azure_devops_a_project() {
        let errors = IntegrationDraft {
            base_url: "https://acme.service-now.com".into(),
            ..Default::default()
        }
        .validate(Service::ServiceNow, false)
        .expect_err("no user");
        assert_eq!(fields(&errors), ["username"]);
        let errors = IntegrationDraft {
            base_url: "https://dev.azure.com/acme".into(),
            project: "a/b".into(),
            work_item_type: "Bug<script>".into(),
            ..Default::default()
        }
        .validate(Service::AzureDevOps, false)
        .expect_err("bad");
        assert_eq!(fields(&errors), ["project", "work_item_type"]);
        let valid = IntegrationDraft {
            base_url: "https://dev.azure.com/acme".into(),
            project: "Site Ops".into(),
            username: "ignored".into(),
            enabled: true,
            auto_create_on_resolve: true,
            ..Default::default()
        }
        .validate(Service::AzureDevOps, true)
        .expect("valid with a stored token");
        assert_eq!(valid.work_item_type, "Bug");
        assert_eq!(valid.basic_user(), "");
        assert_eq!(valid.username, "");
    }

    #[test]
    fn clearing_the_token_of_an_enabled_integration_is_refused() {
        let draft = IntegrationDraft {
            base_url: "https://acme.service-now.com".into(),
            username: "svc".into(),
            enabled: true,
            token: Some(String::new()),
            ..Default::default()
        };
        assert_eq!(
            fields(
                &draft
                    .validate(Service::ServiceNow, true)
                    .expect_err("no token")
            ),
            ["token"]
        );
        let broken = IntegrationDraft {
            token: Some("ab\ncd".into()),
            ..draft
        };
        assert_eq!(
            fields(
                &broken
                    .validate(Service::ServiceNow, true)
                    .expect_err("line break")
            ),
            ["token"]
        );
    }
}
