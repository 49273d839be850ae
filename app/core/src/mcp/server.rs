//! A configured MCP server: its settings as the browser sees them (secrets
//! reduced to a hint), the form's draft and its validation.

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Timestamp;

text_enum! {
    /// How TFTSR reaches the server.
    McpTransport {
        /// A local child process speaking JSON-RPC on stdin/stdout.
        Stdio => "stdio", "Local command (stdio)";
        /// MCP's Streamable HTTP transport.
        Http => "http", "Streamable HTTP";
    }
}

text_enum! {
    /// How an HTTP server authenticates TFTSR. Stdio servers take their
    /// secrets as (secret) environment variables instead.
    McpAuth {
        None => "none", "None";
        /// The key in a header named by `auth_header` (`X-API-Key` by default).
        ApiKey => "api_key", "API key header";
        /// `Authorization: Bearer <token>`.
        Bearer => "bearer", "Bearer token";
        /// An OAuth 2 access token obtained elsewhere, sent as a bearer
        /// token (the interactive OAuth flow is not implemented).
        OAuth2 => "oauth2", "OAuth 2 access token";
    }
}

text_enum! {
    /// The outcome of the last discovery.
    DiscoveryStatus {
        /// Never discovered (new, or edited since).
        Pending => "pending", "Pending";
        /// Tools and resources listed.
        Connected => "connected", "Connected";
        /// The command could not start, or the URL did not answer.
        Unreachable => "unreachable", "Unreachable";
        /// It answered but failed: not MCP, crashed, timed out, refused us.
        Error => "error", "Error";
    }
}

/// A server's id (UUID v7).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct McpServerId(uuid::Uuid);

impl McpServerId {
    pub fn new_at(now: Timestamp) -> Self {
        Self(crate::issue::uuid_v7_at(now))
    }

    pub fn parse(text: &str) -> Option<Self> {
        uuid::Uuid::try_parse(text).ok().map(Self)
    }
}

impl fmt::Display for McpServerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl fmt::Debug for McpServerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "McpServerId({})", self.0.hyphenated())
    }
}

/// An environment variable of a stdio server as the browser sees it: a
/// secret one shows only its hint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct McpEnvSetting {
    pub name: String,
    /// The value of a plain variable; `None` for a secret one.
    pub value: Option<String>,
    pub secret: bool,
    /// The last four characters of a secret value.
    pub hint: Option<String>,
}

/// A configured server as the browser sees it. Secrets never appear here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct McpServerSettings {
    pub id: McpServerId,
    pub name: String,
    pub transport: McpTransport,
    pub command: String,
    pub args: Vec<String>,
    pub env: Vec<McpEnvSetting>,
    pub url: String,
    pub auth: McpAuth,
    /// The header an API key goes in (only for [`McpAuth::ApiKey`]).
    pub auth_header: String,
    /// The last four characters of the stored key or token.
    pub secret_hint: Option<String>,
    pub enabled: bool,
    pub status: DiscoveryStatus,
    /// What went wrong at the last discovery, in words for people.
    pub status_error: Option<String>,
    pub last_discovered_at: Option<Timestamp>,
    /// What the last successful discovery found.
    pub tool_count: u32,
    pub resource_count: u32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One environment variable in the form. `value: None` on a secret variable
/// keeps the stored value.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct McpEnvDraft {
    pub name: String,
    pub value: Option<String>,
    pub secret: bool,
}

impl fmt::Debug for McpEnvDraft {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = match (&self.value, self.secret) {
            (Some(_), true) => Some("<redacted>"),
            (Some(v), false) => Some(v.as_str()),
            (None, _) => None,
        };
        f.debug_struct("McpEnvDraft")
            .field("name", &self.name)
            .field("value", &value)
            .field("secret", &self.secret)
            .finish()
    }
}

/// What the settings form submits. `secret: None` keeps the stored key or
/// token; `Some("")` removes it.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct McpServerDraft {
    pub name: String,
    pub transport: String,
    pub command: String,
    pub args: Vec<String>,
    pub env: Vec<McpEnvDraft>,
    pub url: String,
    pub auth: String,
    pub auth_header: String,
    pub secret: Option<String>,
    pub enabled: bool,
}

impl fmt::Debug for McpServerDraft {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpServerDraft")
            .field("name", &self.name)
            .field("transport", &self.transport)
            .field("command", &self.command)
            .field("args", &self.args)
            .field("env", &self.env)
            .field("url", &self.url)
            .field("auth", &self.auth)
            .field("auth_header", &self.auth_header)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("enabled", &self.enabled)
            .finish()
    }
}

/// A validated environment variable. `value: None` (secret only) keeps the
/// stored value.
#[derive(Clone, PartialEq, Eq)]
pub struct McpEnvValid {
    pub name: String,
    pub value: Option<String>,
    pub secret: bool,
}

impl fmt::Debug for McpEnvValid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        McpEnvDraft {
            name: self.name.clone(),
            value: self.value.clone(),
            secret: self.secret,
        }
        .fmt(f)
    }
}

/// A draft that passed validation. Fields of the other transport are empty.
#[derive(Clone, PartialEq, Eq)]
pub struct McpServerValidation {
    pub name: String,
    pub transport: McpTransport,
    pub command: String,
    pub args: Vec<String>,
    pub env: Vec<McpEnvValid>,
    pub url: String,
    pub auth: McpAuth,
    pub auth_header: String,
    /// `None` keeps the stored secret, `Some("")` removes it.
    pub secret: Option<String>,
    pub enabled: bool,
}

impl fmt::Debug for McpServerValidation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpServerValidation")
            .field("name", &self.name)
            .field("transport", &self.transport)
            .field("command", &self.command)
            .field("args", &self.args)
            .field("env", &self.env)
            .field("url", &self.url)
            .field("auth", &self.auth)
            .field("auth_header", &self.auth_header)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("enabled", &self.enabled)
            .finish()
    }
}

/// Bounds on the form's fields.
pub const NAME_MAX: usize = 64;
pub const COMMAND_MAX: usize = 500;
pub const ARGS_MAX: usize = 64;
pub const ARG_MAX: usize = 1_000;
pub const ENV_MAX: usize = 64;
pub const ENV_NAME_MAX: usize = 128;
pub const ENV_VALUE_MAX: usize = 4_000;
pub const URL_MAX: usize = 500;
pub const HEADER_MAX: usize = 64;
pub const SECRET_MAX: usize = 4_000;

/// The header an API key goes in when the form leaves it empty.
pub const DEFAULT_API_KEY_HEADER: &str = "X-API-Key";

/// The prefix of every tool key of a server named `name`: its sanitised,
/// lower-cased name, at most 24 characters, with no `__` inside and no `_`
/// at either end. So the first `__` of a tool key ends its prefix, and two
/// servers with different prefixes (the store keeps them unique) never
/// share a tool key.
pub fn key_prefix(name: &str) -> String {
    let sanitized = super::tool::sanitize(&name.trim().to_lowercase());
    let mut prefix = String::with_capacity(sanitized.len());
    for c in sanitized.chars() {
        if !(c == '_' && (prefix.is_empty() || prefix.ends_with('_'))) {
            prefix.push(c);
        }
    }
    prefix.truncate(24);
    prefix.trim_end_matches('_').to_owned()
}

fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

impl McpServerDraft {
    /// Checks the draft. `has_stored_secret` says whether keeping the stored
    /// secret (`secret: None`) leaves the server with one; `stored_secret_env`
    /// names the secret environment variables that have a stored value.
    /// Errors are `(field, message)` pairs for the form.
    pub fn validate(
        &self,
        has_stored_secret: bool,
        stored_secret_env: &[&str],
    ) -> Result<McpServerValidation, Vec<(&'static str, String)>> {
        let mut errors = Vec::new();
        let name = self.name.trim().to_owned();
        if name.is_empty() {
            errors.push(("name", "Give the server a name.".to_owned()));
        } else if name.chars().count() > NAME_MAX {
            errors.push(("name", format!("At most {NAME_MAX} characters.")));
        } else if has_control(&name) {
            errors.push(("name", "The name has control characters.".to_owned()));
        } else if !name.chars().any(|c| c.is_ascii_alphanumeric()) {
            errors.push((
                "name",
                "Use at least one letter or digit (A-Z, 0-9): tool names are built from it."
                    .to_owned(),
            ));
        }

        let transport = McpTransport::parse(self.transport.trim());
        if transport.is_none() {
            errors.push((
                "transport",
                "Pick how to reach the server: a local command or HTTP.".to_owned(),
            ));
        }
        let transport = transport.unwrap_or(McpTransport::Stdio);

        let mut command = String::new();
        let mut args = Vec::new();
        let mut env = Vec::new();
        let mut url = String::new();
        let mut auth = McpAuth::None;
        let mut auth_header = String::new();
        let mut secret = None;

        match transport {
            McpTransport::Stdio => {
                command = self.command.trim().to_owned();
                if command.is_empty() {
                    errors.push((
                        "command",
                        "Name the command that starts the server.".to_owned(),
                    ));
                } else if command.len() > COMMAND_MAX {
                    errors.push(("command", format!("At most {COMMAND_MAX} characters.")));
                } else if has_control(&command) {
                    errors.push(("command", "The command has control characters.".to_owned()));
                }
                if self.args.len() > ARGS_MAX {
                    errors.push(("args", format!("At most {ARGS_MAX} arguments.")));
                } else if self.args.iter().any(|a| a.len() > ARG_MAX) {
                    errors.push((
                        "args",
                        format!("An argument has more than {ARG_MAX} characters."),
                    ));
                } else if self.args.iter().any(|a| a.contains('\0')) {
                    errors.push(("args", "An argument has a NUL character.".to_owned()));
                }
                args = self.args.clone();
                env = self.validate_env(stored_secret_env, &mut errors);
            }
            McpTransport::Http => {
                url = self.url.trim().to_owned();
                if let Err(message) = check_url(&url) {
                    errors.push(("url", message));
                }
                match McpAuth::parse(self.auth.trim()) {
                    Some(a) => auth = a,
                    None if self.auth.trim().is_empty() => {}
                    None => errors.push(("auth", "Pick how the server authenticates.".to_owned())),
                }
                if auth == McpAuth::ApiKey {
                    auth_header = match self.auth_header.trim() {
                        "" => DEFAULT_API_KEY_HEADER.to_owned(),
                        h => h.to_owned(),
                    };
                    if auth_header.len() > HEADER_MAX
                        || !auth_header
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                    {
                        errors.push((
                            "auth_header",
                            format!(
                                "A header name of letters, digits and '-', at most {HEADER_MAX}."
                            ),
                        ));
                    } else if auth_header.eq_ignore_ascii_case("authorization")
                        || auth_header.eq_ignore_ascii_case("host")
                    {
                        errors.push((
                            "auth_header",
                            "Pick 'Bearer token' for the Authorization header.".to_owned(),
                        ));
                    }
                }
                secret = self.secret.as_ref().map(|s| s.trim().to_owned());
                if let Some(s) = &secret {
                    if s.len() > SECRET_MAX {
                        errors.push(("secret", format!("At most {SECRET_MAX} characters.")));
                    } else if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
                        errors.push((
                            "secret",
                            "The key has spaces or control characters; paste it again.".to_owned(),
                        ));
                    }
                }
                let will_have_secret = match &secret {
                    Some(s) => !s.is_empty(),
                    None => has_stored_secret,
                };
                if auth == McpAuth::None {
                    // A secret without a way to send it is dropped.
                    secret = if has_stored_secret {
                        Some(String::new())
                    } else {
                        None
                    };
                } else if !will_have_secret {
                    errors.push(("secret", format!("{} needs a key or token.", auth.label())));
                }
            }
        }
        if transport == McpTransport::Stdio && has_stored_secret {
            secret = Some(String::new());
        }

        if errors.is_empty() {
            Ok(McpServerValidation {
                name,
                transport,
                command,
                args,
                env,
                url,
                auth,
                auth_header,
                secret,
                enabled: self.enabled,
            })
        } else {
            Err(errors)
        }
    }

    fn validate_env(
        &self,
        stored_secret_env: &[&str],
        errors: &mut Vec<(&'static str, String)>,
    ) -> Vec<McpEnvValid> {
        if self.env.len() > ENV_MAX {
            errors.push(("env", format!("At most {ENV_MAX} variables.")));
            return Vec::new();
        }
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for var in &self.env {
            let name = var.name.trim().to_owned();
            let valid_name = name.len() <= ENV_NAME_MAX
                && name
                    .bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !valid_name {
                errors.push((
                    "env",
                    format!(
                        "'{}' is not a variable name: letters, digits and '_', not starting with \
                         a digit, at most {ENV_NAME_MAX}.",
                        name.chars().take(40).collect::<String>()
                    ),
                ));
                continue;
            }
            if !seen.insert(name.clone()) {
                errors.push(("env", format!("{name} is set twice.")));
                continue;
            }
            match &var.value {
                Some(v) if v.len() > ENV_VALUE_MAX => {
                    errors.push((
                        "env",
                        format!("{name}: at most {ENV_VALUE_MAX} characters."),
                    ));
                }
                Some(v) if v.contains('\0') => {
                    errors.push(("env", format!("{name} has a NUL character.")));
                }
                None if !var.secret => {
                    errors.push(("env", format!("Give {name} a value.")));
                }
                None if !stored_secret_env.contains(&name.as_str()) => {
                    errors.push(("env", format!("Give the secret {name} a value.")));
                }
                _ => out.push(McpEnvValid {
                    name,
                    value: var.value.clone(),
                    secret: var.secret,
                }),
            }
        }
        out
    }
}

/// An `http` or `https` URL with a host and no user info, query or fragment
/// (credentials belong in the authentication fields, where they are
/// encrypted; a URL is stored and shown in clear).
fn check_url(url: &str) -> Result<(), String> {
    if url.is_empty() {
        return Err("Give the server's URL, e.g. https://mcp.example.com/mcp.".to_owned());
    }
    if url.len() > URL_MAX {
        return Err(format!("At most {URL_MAX} characters."));
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| "Start the URL with http:// or https://.".to_owned())?;
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() {
        return Err("The URL has no host.".to_owned());
    }
    if authority.contains('@') {
        return Err("Put credentials in the authentication fields, not in the URL.".to_owned());
    }
    if url.contains(['?', '#']) {
        return Err(
            "The URL may not have a query or a fragment; put tokens in the authentication fields."
                .to_owned(),
        );
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("The URL has spaces or control characters.".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stdio() -> McpServerDraft {
        McpServerDraft {
            name: "Grafana".into(),
            transport: "stdio".into(),
            command: "npx".into(),
            args: vec!["-y".into(), "mcp-grafana".into()],
            env: vec![McpEnvDraft {
                name: "GRAFANA_TOKEN".into(),
                value: Some("glsa_secret".into()),
                secret: true,
            }],
            enabled: true,
            ..McpServerDraft::default()
        }
    }

    fn http(auth: &str, secret: Option<&str>) -> McpServerDraft {
        McpServerDraft {
            name: "Tickets".into(),
            transport: "http".into(),
            url: "https://mcp.example.com/mcp".into(),
            auth: auth.into(),
            secret: secret.map(str::to_owned),
            ..McpServerDraft::default()
        }
    }

    fn fields(errors: Vec<(&'static str, String)>) -> Vec<&'static str> {
        errors.into_iter().map(|(f, _)| f).collect()
    }

    #[test]
    fn a_stdio_server_keeps_command_args_and_env() {
        let ok = stdio().validate(false, &[]).expect("valid");
        assert_eq!(ok.transport, McpTransport::Stdio);
        assert_eq!(ok.command, "npx");
        assert_eq!(ok.args, ["-y", "mcp-grafana"]);
        assert_eq!(ok.env.len(), 1);
        assert!(ok.url.is_empty());
        assert_eq!(ok.auth, McpAuth::None);
        assert_eq!(ok.secret, None);
    }

    #[test]
    fn stdio_needs_a_command_and_valid_env_names() {
        let mut d = stdio();
        d.command = "  ".into();
        d.env.push(McpEnvDraft {
            name: "1BAD".into(),
            value: Some("x".into()),
            secret: false,
        });
        d.env.push(McpEnvDraft {
            name: "GRAFANA_TOKEN".into(),
            value: Some("again".into()),
            secret: false,
        });
        let errors = fields(d.validate(false, &[]).expect_err("invalid"));
        assert_eq!(errors, ["command", "env", "env"]);
    }

    #[test]
    fn a_secret_env_without_a_value_keeps_only_a_stored_one() {
        let mut d = stdio();
        d.env[0].value = None;
        assert!(d.validate(false, &[]).is_err());
        let ok = d
            .validate(false, &["GRAFANA_TOKEN"])
            .expect("keeps the stored value");
        assert_eq!(ok.env[0].value, None);
        d.env[0].secret = false;
        assert!(
            d.validate(false, &["GRAFANA_TOKEN"]).is_err(),
            "plain vars need a value"
        );
    }

    #[test]
    fn http_urls_must_be_http_without_credentials() {
        for (url, ok) in [
            ("https://mcp.example.com/mcp", true),
            ("http://127.0.0.1:8080/mcp", true),
            ("ftp://example.com", false),
            ("https://user:pw@example.com/mcp", false),
            ("https://example.com/mcp?token=abc", false),
            ("https://", false),
            ("", false),
        ] {
            let mut d = http("none", None);
            d.url = url.into();
            assert_eq!(d.validate(false, &[]).is_ok(), ok, "{url}");
        }
    }

    #[test]
    fn auth_needs_a_secret_unless_one_is_stored() {
        assert_eq!(
            fields(
                http("bearer", None)
                    .validate(false, &[])
                    .expect_err("no token")
            ),
            ["secret"]
        );
        assert!(http("bearer", None).validate(true, &[]).is_ok());
        assert!(
            http("bearer", Some("")).validate(true, &[]).is_err(),
            "removing it"
        );
        let ok = http("api_key", Some("k-1234"))
            .validate(false, &[])
            .expect("valid");
        assert_eq!(ok.auth_header, "X-API-Key");
        assert_eq!(ok.secret.as_deref(), Some("k-1234"));
        let mut d = http("api_key", Some("k"));
        d.auth_header = "Authorization".into();
        assert!(d.validate(false, &[]).is_err());
        assert!(http("kerberos", Some("k")).validate(false, &[]).is_err());
    }

    #[test]
    fn switching_to_no_auth_or_stdio_drops_a_stored_secret() {
        let ok = http("none", None).validate(true, &[]).expect("valid");
        assert_eq!(ok.secret.as_deref(), Some(""));
        let ok = stdio().validate(true, &[]).expect("valid");
        assert_eq!(ok.secret.as_deref(), Some(""));
    }

    #[test]
    fn names_are_bounded_and_need_a_letter_or_digit() {
        for (name, ok) in [("", false), ("!!!", false), ("a", true)] {
            let mut d = stdio();
            d.name = name.into();
            assert_eq!(d.validate(false, &[]).is_ok(), ok, "{name:?}");
        }
        let mut d = stdio();
        d.name = "x".repeat(NAME_MAX + 1);
        assert!(d.validate(false, &[]).is_err());
        let mut d = stdio();
        d.args = vec!["a".into(); ARGS_MAX + 1];
        assert!(d.validate(false, &[]).is_err());
    }

    #[test]
    fn debug_never_shows_secrets() {
        let mut d = http("bearer", Some("tok-supersecret"));
        d.env = stdio().env;
        let text = format!("{d:?}");
        assert!(
            !text.contains("supersecret") && !text.contains("glsa_secret"),
            "{text}"
        );
        let v = stdio().validate(false, &[]).expect("valid");
        assert!(!format!("{v:?}").contains("glsa_secret"));
        let v = http("bearer", Some("tok-supersecret"))
            .validate(false, &[])
            .expect("valid");
        assert!(!format!("{v:?}").contains("supersecret"));
    }

    #[test]
    fn key_prefixes_are_sanitised_and_short() {
        assert_eq!(key_prefix("Grafana Prod"), "grafana_prod");
        assert_eq!(key_prefix(&"a".repeat(40)).len(), 24);
        assert_eq!(key_prefix(" __Ops  Tools!_ "), "ops_tools");
        // "a" + "b__c" and "a__b" + "c" can't both give "a__b__c".
        assert_eq!(key_prefix("a__b"), "a_b");
    }
}
