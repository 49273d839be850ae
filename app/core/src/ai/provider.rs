//! The AI providers people configure in settings.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Timestamp;

text_enum! {
    /// Which API a provider speaks.
    ProviderKind {
        /// Deterministic, offline, no model: the default on a fresh install.
        Builtin => "builtin", "Built-in analyst";
        /// `/v1/chat/completions`: OpenAI, LM Studio, vLLM, llama.cpp
        /// server, LiteLLM ...
        OpenAi => "openai", "OpenAI-compatible";
        Mistral => "mistral", "Mistral";
        /// The Messages API.
        Anthropic => "anthropic", "Anthropic";
        /// `generateContent`.
        Gemini => "gemini", "Google Gemini";
        /// `/api/chat`, `/api/tags`.
        Ollama => "ollama", "Ollama";
    }
}

impl ProviderKind {
    /// The base URL a new provider of this kind starts with.
    pub const fn default_base_url(self) -> &'static str {
        match self {
            Self::Builtin => "",
            Self::OpenAi => "https://api.openai.com/v1",
            Self::Mistral => "https://api.mistral.ai/v1",
            Self::Anthropic => "https://api.anthropic.com",
            Self::Gemini => "https://generativelanguage.googleapis.com/v1beta",
            Self::Ollama => "http://127.0.0.1:11434",
        }
    }

    /// Whether the API needs a key. OpenAI-compatible servers run locally
    /// often don't.
    pub const fn requires_key(self) -> bool {
        matches!(self, Self::Mistral | Self::Anthropic | Self::Gemini)
    }

    /// Whether the provider talks to a network at all.
    pub const fn is_remote(self) -> bool {
        !matches!(self, Self::Builtin)
    }

    /// A context size to assume when the user gives none, in tokens.
    pub const fn default_context_tokens(self) -> u32 {
        match self {
            Self::Builtin => 32_000,
            Self::OpenAi | Self::Mistral => 32_000,
            Self::Anthropic => 200_000,
            Self::Gemini => 1_000_000,
            Self::Ollama => 8_192,
        }
    }
}

/// A provider's id (UUID v7).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProviderId(uuid::Uuid);

impl ProviderId {
    pub fn new_at(now: Timestamp) -> Self {
        Self(crate::issue::uuid_v7_at(now))
    }

    pub fn parse(text: &str) -> Option<Self> {
        uuid::Uuid::try_parse(text).ok().map(Self)
    }
}

impl fmt::Display for ProviderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl fmt::Debug for ProviderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProviderId({})", self.0.hyphenated())
    }
}

/// A configured provider as the browser sees it: the key itself never
/// leaves the server, only its last four characters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderSettings {
    pub id: ProviderId,
    pub name: String,
    pub kind: ProviderKind,
    pub base_url: String,
    pub model: String,
    /// The key's last four characters, when there is a key.
    pub key_hint: Option<String>,
    pub context_tokens: u32,
    pub is_default: bool,
    pub updated_at: Timestamp,
}

/// What the settings form submits. `api_key: None` keeps the stored key;
/// `Some("")` removes it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderDraft {
    pub name: String,
    pub kind: String,
    pub base_url: String,
    pub model: String,
    pub api_key: Option<String>,
    /// Empty means the kind's default.
    pub context_tokens: String,
}

impl fmt::Display for ProviderDraft {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name, self.kind)
    }
}

/// A draft that passed validation.
#[derive(Clone, PartialEq, Eq)]
pub struct ProviderValidation {
    pub name: String,
    pub kind: ProviderKind,
    pub base_url: String,
    pub model: String,
    pub api_key: Option<String>,
    pub context_tokens: u32,
}

impl fmt::Debug for ProviderValidation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderValidation")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("context_tokens", &self.context_tokens)
            .finish()
    }
}

/// Bounds on the form's fields.
pub const NAME_MAX: usize = 80;
pub const URL_MAX: usize = 500;
pub const MODEL_MAX: usize = 200;
pub const KEY_MAX: usize = 500;

impl ProviderDraft {
    /// Checks the draft; `has_stored_key` says whether keeping the stored
    /// key (`api_key: None`) leaves the provider with one. Errors are
    /// `(field, message)` pairs for the form.
    pub fn validate(
        &self,
        has_stored_key: bool,
    ) -> Result<ProviderValidation, Vec<(&'static str, String)>> {
        let mut errors = Vec::new();
        let name = self.name.trim().to_owned();
        if name.is_empty() {
            errors.push(("name", "Give the provider a name.".to_owned()));
        } else if name.chars().count() > NAME_MAX {
            errors.push(("name", format!("At most {NAME_MAX} characters.")));
        }
        let kind = ProviderKind::parse(self.kind.trim());
        if kind.is_none() {
            errors.push(("kind", "Pick which API the provider speaks.".to_owned()));
        }
        let kind = kind.unwrap_or(ProviderKind::Builtin);

        let mut base_url = self.base_url.trim().trim_end_matches('/').to_owned();
        if base_url.is_empty() {
            base_url = kind.default_base_url().to_owned();
        }
        if kind.is_remote() {
            if let Err(message) = check_base_url(&base_url) {
                errors.push(("base_url", message));
            }
        } else {
            base_url.clear();
        }

        let model = self.model.trim().to_owned();
        if kind.is_remote() && model.is_empty() {
            errors.push(("model", "Name the model to use.".to_owned()));
        } else if model.chars().count() > MODEL_MAX {
            errors.push(("model", format!("At most {MODEL_MAX} characters.")));
        } else if model.chars().any(char::is_control) {
            errors.push(("model", "The model name has control characters.".to_owned()));
        }

        let api_key = self.api_key.as_ref().map(|k| k.trim().to_owned());
        if let Some(key) = &api_key {
            if key.len() > KEY_MAX {
                errors.push(("api_key", format!("At most {KEY_MAX} characters.")));
            } else if key.chars().any(|c| c.is_control() || c.is_whitespace()) {
                errors.push((
                    "api_key",
                    "The key has spaces or control characters; paste it again.".to_owned(),
                ));
            }
        }
        let will_have_key = match &api_key {
            Some(key) => !key.is_empty(),
            None => has_stored_key,
        };
        if kind.requires_key() && !will_have_key {
            errors.push(("api_key", format!("{} needs an API key.", kind.label())));
        }

        let context_tokens = match self.context_tokens.trim() {
            "" => kind.default_context_tokens(),
            text => match text.replace(['_', ','], "").parse::<u32>() {
                Ok(n) if (1_024..=10_000_000).contains(&n) => n,
                _ => {
                    errors.push((
                        "context_tokens",
                        "A number of tokens between 1024 and 10000000.".to_owned(),
                    ));
                    kind.default_context_tokens()
                }
            },
        };

        if errors.is_empty() {
            Ok(ProviderValidation {
                name,
                kind,
                base_url,
                model,
                api_key: if kind.is_remote() {
                    api_key
                } else {
                    Some(String::new())
                },
                context_tokens,
            })
        } else {
            Err(errors)
        }
    }
}

/// An `http` or `https` URL with a host, no user info, query or fragment.
fn check_base_url(url: &str) -> Result<(), String> {
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
        return Err("Put credentials in the API key field, not in the URL.".to_owned());
    }
    if url.contains(['?', '#']) || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("The URL may not have a query, a fragment or spaces.".to_owned());
    }
    Ok(())
}

/// The last four characters of a key, for showing which key is stored.
pub fn key_hint(key: &str) -> Option<String> {
    if key.is_empty() {
        return None;
    }
    let chars: Vec<char> = key.chars().collect();
    let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
    Some(tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(kind: &str) -> ProviderDraft {
        ProviderDraft {
            name: "Work".into(),
            kind: kind.into(),
            base_url: String::new(),
            model: "m".into(),
            api_key: None,
            context_tokens: String::new(),
        }
    }

    #[test]
    fn remote_kinds_get_their_default_url() {
        let ok = draft("ollama").validate(false).expect("valid");
        assert_eq!(ok.base_url, "http://127.0.0.1:11434");
        assert_eq!(ok.context_tokens, 8_192);
    }

    #[test]
    fn keyed_kinds_need_a_key_unless_one_is_stored() {
        let errors = draft("anthropic").validate(false).expect_err("no key");
        assert_eq!(errors[0].0, "api_key");
        assert!(draft("anthropic").validate(true).is_ok());
        let mut removing = draft("anthropic");
        removing.api_key = Some(String::new());
        assert!(removing.validate(true).is_err());
    }

    #[test]
    fn urls_with_credentials_or_queries_are_refused() {
        for bad in [
            "ftp://x",
            "https://user:pw@host/v1",
            "https://host/v1?key=1",
            "https:///v1",
        ] {
            let mut d = draft("openai");
            d.base_url = bad.into();
            let errors = d.validate(false).expect_err(bad);
            assert!(errors.iter().any(|(f, _)| *f == "base_url"), "{bad}");
        }
        let mut d = draft("openai");
        d.base_url = "http://127.0.0.1:8080/v1/".into();
        assert_eq!(
            d.validate(false).expect("ok").base_url,
            "http://127.0.0.1:8080/v1"
        );
    }

    #[test]
    fn debug_never_prints_the_key() {
        let mut d = draft("openai");
        d.api_key = Some("sk-secretvalue1234".into());
        let valid = d.validate(false).expect("ok");
        assert!(!format!("{valid:?}").contains("secretvalue"));
        assert_eq!(key_hint("sk-secretvalue1234").as_deref(), Some("1234"));
        assert_eq!(key_hint(""), None);
    }

    #[test]
    fn builtin_needs_nothing() {
        let mut d = draft("builtin");
        d.model = String::new();
        let ok = d.validate(false).expect("ok");
        assert_eq!(ok.base_url, "");
    }
}
