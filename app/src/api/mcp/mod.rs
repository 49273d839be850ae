//! MCP servers in settings (list, add, edit, enable, delete, discover) and
//! MCP during a triage: the toolbox, running a tool by hand, reading a
//! resource, confirming a call the assistant asked for, and attaching a
//! result to the conversation. Secrets go in, never out.

use leptos::prelude::*;
use tftsr_core::mcp::{McpCall, McpServerSettings};

use crate::AppError;
use crate::wire::McpServerDetails;

#[cfg(feature = "ssr")]
fn server_id(text: &str) -> Result<tftsr_core::mcp::McpServerId, AppError> {
    tftsr_core::mcp::McpServerId::parse(text.trim())
        .ok_or_else(|| AppError::BadRequest("That is not a valid MCP server id.".into()))
}

#[server(prefix = "/api", endpoint = "mcp_servers")]
pub async fn mcp_servers() -> Result<Vec<McpServerSettings>, AppError> {
    crate::services::services()?.mcp.servers().await
}

#[server(prefix = "/api", endpoint = "mcp_server")]
pub async fn mcp_server(id: String) -> Result<McpServerDetails, AppError> {
    let id = server_id(&id)?;
    crate::services::services()?.mcp.server(id).await
}

/// The add/edit form. Arguments one per line; environment `NAME=value`
/// per line; secret environment the same, where a bare `NAME` keeps the
/// stored value. An empty `secret` keeps the stored key unless
/// `clear_secret` is set. An empty `id` adds a server.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct McpServerForm {
    #[serde(default)]
    pub id: String,
    pub name: String,
    pub transport: String,
    #[serde(default)]
    pub command: String,
    #[serde(default)]
    pub args: String,
    #[serde(default)]
    pub env: String,
    #[serde(default)]
    pub secret_env: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub auth: String,
    #[serde(default)]
    pub auth_header: String,
    #[serde(default)]
    pub secret: String,
    #[serde(default)]
    pub clear_secret: Option<String>,
    #[serde(default)]
    pub enabled: Option<String>,
}

impl McpServerForm {
    /// The draft core validates. Lines are taken as typed (arguments may
    /// hold spaces); only line ends and blank lines are dropped.
    pub fn draft(&self) -> tftsr_core::mcp::McpServerDraft {
        use tftsr_core::mcp::McpEnvDraft;
        let lines = |text: &str| -> Vec<String> {
            text.lines()
                .map(|l| l.trim_end_matches('\r').to_owned())
                .filter(|l| !l.trim().is_empty())
                .collect()
        };
        let env_line = |line: String, secret: bool| match line.split_once('=') {
            Some((name, value)) => McpEnvDraft {
                name: name.trim().to_owned(),
                value: Some(value.to_owned()),
                secret,
            },
            None => McpEnvDraft {
                name: line.trim().to_owned(),
                value: if secret { None } else { Some(String::new()) },
                secret,
            },
        };
        let mut env: Vec<McpEnvDraft> = lines(&self.env)
            .into_iter()
            .map(|l| env_line(l, false))
            .collect();
        env.extend(
            lines(&self.secret_env)
                .into_iter()
                .map(|l| env_line(l, true)),
        );
        let secret = if self.clear_secret.as_deref().is_some_and(|c| !c.is_empty()) {
            Some(String::new())
        } else {
            Some(self.secret.clone()).filter(|s| !s.trim().is_empty())
        };
        tftsr_core::mcp::McpServerDraft {
            name: self.name.clone(),
            transport: self.transport.clone(),
            command: self.command.trim().to_owned(),
            args: lines(&self.args),
            env,
            url: self.url.trim().to_owned(),
            auth: if self.auth.is_empty() {
                "none".to_owned()
            } else {
                self.auth.clone()
            },
            auth_header: self.auth_header.trim().to_owned(),
            secret,
            enabled: self.enabled.as_deref().is_some_and(|e| !e.is_empty()),
        }
    }
}

/// Adds or edits a server; an enabled one is then discovered in the
/// background (the page polls its status).
#[server(prefix = "/api", endpoint = "save_mcp_server")]
pub async fn save_mcp_server(form: McpServerForm) -> Result<McpServerSettings, AppError> {
    let id = match form.id.trim() {
        "" => None,
        text => Some(server_id(text)?),
    };
    let draft = form.draft();
    crate::services::services()?.mcp.save(id, draft).await
}

#[server(prefix = "/api", endpoint = "set_mcp_server_enabled")]
pub async fn set_mcp_server_enabled(
    id: String,
    enabled: bool,
) -> Result<McpServerSettings, AppError> {
    let id = server_id(&id)?;
    crate::services::services()?
        .mcp
        .set_enabled(id, enabled)
        .await
}

#[server(prefix = "/api", endpoint = "delete_mcp_server")]
pub async fn delete_mcp_server(id: String) -> Result<(), AppError> {
    let id = server_id(&id)?;
    crate::services::services()?.mcp.delete(id).await
}

/// Connects and lists tools and resources now; resolves with the outcome.
#[server(prefix = "/api", endpoint = "discover_mcp_server")]
pub async fn discover_mcp_server(id: String) -> Result<McpServerSettings, AppError> {
    let id = server_id(&id)?;
    crate::services::services()?.mcp.discover(id).await
}

/// The tools and resources a triage can use.
#[server(prefix = "/api", endpoint = "mcp_toolbox")]
pub async fn mcp_toolbox() -> Result<Vec<McpServerDetails>, AppError> {
    crate::services::services()?.mcp.toolbox().await
}

/// Runs a tool by hand for an issue. `args` holds the form's fields by
/// property name (`args[query]=…`); an unticked checkbox is absent.
#[server(prefix = "/api", endpoint = "run_mcp_tool")]
pub async fn run_mcp_tool(
    issue_id: String,
    tool_key: String,
    #[server(default)] args: std::collections::BTreeMap<String, String>,
) -> Result<McpCall, AppError> {
    let issue = crate::api::parse_id(&issue_id)?;
    crate::services::services()?
        .mcp
        .run_tool(issue, tool_key, args.into_iter().collect())
        .await
}

#[server(prefix = "/api", endpoint = "read_mcp_resource")]
pub async fn read_mcp_resource(
    issue_id: String,
    server_id: String,
    uri: String,
) -> Result<McpCall, AppError> {
    let issue = crate::api::parse_id(&issue_id)?;
    let server = self::server_id(&server_id)?;
    crate::services::services()?
        .mcp
        .read_resource(issue, server, uri)
        .await
}

/// The engineer's answer to a call the assistant is waiting on.
#[server(prefix = "/api", endpoint = "decide_mcp_call")]
pub async fn decide_mcp_call(issue_id: String, call_id: String, run: bool) -> Result<(), AppError> {
    let issue = crate::api::parse_id(&issue_id)?;
    crate::services::blocking(move |s| s.mcp.decide(issue, call_id, run)).await
}

/// Adds a finished call's (redacted) result to the conversation as the
/// engineer's message; the assistant replies to it.
#[server(prefix = "/api", endpoint = "attach_mcp_call")]
pub async fn attach_mcp_call(issue_id: String, call_id: String) -> Result<(), AppError> {
    let issue = crate::api::parse_id(&issue_id)?;
    crate::services::blocking(move |s| {
        let text = s.mcp.evidence(issue, call_id)?;
        s.triage.send(issue, text, None)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_becomes_a_draft_line_by_line() {
        let form = McpServerForm {
            name: "Grafana".into(),
            transport: "stdio".into(),
            command: " npx ".into(),
            args: "-y\r\n\n@acme/grafana-mcp --read-only\n".into(),
            env: "LOG_LEVEL=debug\nEMPTY\n".into(),
            secret_env: "GRAFANA_TOKEN=glsa_x=y\nKEEP_ME\n".into(),
            enabled: Some("on".into()),
            ..Default::default()
        };
        let draft = form.draft();
        assert_eq!(draft.command, "npx");
        assert_eq!(draft.args, ["-y", "@acme/grafana-mcp --read-only"]);
        let env: Vec<_> = draft
            .env
            .iter()
            .map(|e| (e.name.as_str(), e.value.as_deref(), e.secret))
            .collect();
        assert_eq!(
            env,
            [
                ("LOG_LEVEL", Some("debug"), false),
                ("EMPTY", Some(""), false),
                ("GRAFANA_TOKEN", Some("glsa_x=y"), true),
                ("KEEP_ME", None, true),
            ]
        );
        assert!(draft.enabled);
        assert_eq!(draft.auth, "none");
        assert_eq!(draft.secret, None);
    }

    #[test]
    fn clearing_the_secret_wins_over_a_typed_one() {
        let form = McpServerForm {
            secret: "new".into(),
            clear_secret: Some("1".into()),
            ..Default::default()
        };
        assert_eq!(form.draft().secret, Some(String::new()));
        let keep = McpServerForm::default();
        assert_eq!(keep.draft().secret, None);
        assert!(!keep.draft().enabled);
    }
}
