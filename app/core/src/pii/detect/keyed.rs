//! Values assigned to telling keys, in every syntax logs use for it:
//! `DB_PASSWORD=x` (.env, `set -x`), `"api_key": "x"` (JSON),
//! `password: x` (YAML), `token = x` (INI), `Password=x;` (connection
//! strings), `user=bob` (key-value logs).
//!
//! The key decides the type: password words give PASSWORD, `*_TOKEN`,
//! `*_SECRET` and `*_API_KEY` give API_KEY (BEARER_TOKEN for OAuth access
//! and refresh tokens), `user` gives USERNAME and `host`/`node` give
//! HOSTNAME. The value must then look like one: masked values (`***`,
//! `${VAR}`), prose and paths are skipped. Only the value is reported.

use regex::Regex;

use super::account::acceptable_username;
use super::host::acceptable_machine_name;
use super::{compile, key_words};
use crate::pii::config::PiiConfigError;
use crate::pii::kind::PiiType;
use crate::pii::resolve::{Candidate, rank};
use crate::pii::text::{byte_at, byte_before, is_masked, looks_random};

/// Longest value taken from one assignment.
const MAX_VALUE_BYTES: usize = 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KeyClass {
    Password,
    GenericSecret,
    OauthToken,
    Username,
    Hostname,
}

pub(crate) struct KeyedValueDetector {
    assignment: Regex,
}

impl KeyedValueDetector {
    pub(crate) fn new() -> Result<Self, PiiConfigError> {
        Ok(Self {
            // ASCII-case-insensitive key words are literals the engine can
            // jump to (`-u` keeps `ſ` from passing for `s`, and lets the
            // engine keep its literal prefilter); the rest of the key is read
            // backwards from there.
            assignment: compile(
                "keyed",
                concat!(
                    "(?i-u)((?:pass(?:word|wd|phrase)?|pwd|secret|token|key|credentials?|signature",
                    "|user(?:name)?|usr|logname|host(?:name)?|node(?:name)?|machine(?:name)?",
                    "|computer(?:name)?|workstation|server(?:name)?)(?:[_.-]?id)?)",
                    "\\\\?[\"']?[ \\t]*[:=][ \\t]*"
                ),
            )?,
        })
    }

    pub(crate) fn detect(&self, text: &str, out: &mut Vec<Candidate>) {
        let bytes = text.as_bytes();
        for caps in self.assignment.captures_iter(text) {
            let (Some(whole), Some(key_word)) = (caps.get(0), caps.get(1)) else {
                continue;
            };
            let mut key_start = key_word.start();
            while key_start > 0
                && (bytes[key_start - 1].is_ascii_alphanumeric()
                    || matches!(bytes[key_start - 1], b'_' | b'.' | b'-'))
            {
                key_start -= 1;
            }
            let key = &text[key_start..key_word.end()];
            // `==` is a comparison, not an assignment; `(passwd:chauthtok)`
            // is a PAM service and its action.
            let pam_label = byte_before(text, key_start) == Some(b'(')
                && &text[key_word.end()..whole.end()] == ":";
            if byte_at(text, whole.end()) == Some(b'=') || pam_label {
                continue;
            }
            let Some(class) = classify_key(key) else {
                continue;
            };
            // Secret query parameters belong to the URL rule.
            let in_query = matches!(byte_before(text, key_start), Some(b'?' | b'&'));
            if in_query
                && matches!(
                    class,
                    KeyClass::Password | KeyClass::GenericSecret | KeyClass::OauthToken
                )
            {
                continue;
            }
            let Some((start, end)) = value_after(text, whole.end()) else {
                continue;
            };
            let value = &text[start..end];
            // "ruser= rhost=10.0.0.1": the key had no value and the next
            // pair follows.
            let skipped_space = matches!(byte_before(text, start), Some(b' ' | b'\t'));
            if skipped_space && looks_like_assignment(value) {
                continue;
            }
            match class {
                KeyClass::Password => {
                    if acceptable_password(key, value) {
                        out.push(Candidate::new(
                            PiiType::Password,
                            start,
                            end,
                            rank::PASSWORD,
                        ));
                    }
                }
                KeyClass::GenericSecret => {
                    if acceptable_secret(value) {
                        out.push(Candidate::new(
                            PiiType::ApiKey,
                            start,
                            end,
                            rank::GENERIC_SECRET,
                        ));
                    }
                }
                KeyClass::OauthToken => {
                    let token_start = strip_scheme(value).map_or(start, |rest| end - rest.len());
                    let token = &text[token_start..end];
                    if acceptable_secret(token) {
                        out.push(Candidate::new(
                            PiiType::BearerToken,
                            token_start,
                            end,
                            rank::BEARER,
                        ));
                    }
                }
                KeyClass::Username => {
                    if let Some((s, e)) = username_in(value) {
                        out.push(Candidate::new(
                            PiiType::Username,
                            start + s,
                            start + e,
                            rank::USERNAME,
                        ));
                    }
                }
                KeyClass::Hostname => {
                    let name_len = value
                        .bytes()
                        .take_while(|b| {
                            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')
                        })
                        .count();
                    let name = value[..name_len].trim_end_matches('.');
                    if acceptable_machine_name(name) && !name.contains('.') {
                        out.push(Candidate::new(
                            PiiType::Hostname,
                            start,
                            start + name.len(),
                            rank::HOSTNAME,
                        ));
                    }
                }
            }
        }
    }
}

/// Words that make a `*_key` a secret (`api_key`, `signing_key`); other
/// keys (`cache_key`, `primary_key`, `session_key`) name data, not secrets.
#[rustfmt::skip]
const SECRET_KEY_QUALIFIERS: &[&str] = &[
    "api", "access", "secret", "private", "signing", "auth", "encryption", "master", "client",
    "app", "service", "subscription", "account", "webhook", "sas", "storage", "shared", "hmac",
    "license", "deploy",
];

fn classify_key(key: &str) -> Option<KeyClass> {
    let words = key_words(key);
    let last = words.last()?.as_str();
    let previous = words.len().checked_sub(2).map(|i| words[i].as_str());
    let joined = words.concat();
    let class = match last {
        "password" | "passwd" | "pwd" | "pass" | "passphrase" => KeyClass::Password,
        _ if joined.ends_with("password") || joined.ends_with("passwd") => KeyClass::Password,
        "token"
            if matches!(
                previous,
                Some("access" | "refresh" | "id" | "bearer" | "oauth")
            ) || matches!(
                joined.as_str(),
                "accesstoken" | "refreshtoken" | "bearertoken"
            ) =>
        {
            KeyClass::OauthToken
        }
        "token" | "secret" | "credential" | "credentials" | "signature" => KeyClass::GenericSecret,
        _ if joined.ends_with("token")
            || joined.ends_with("secret")
            || joined.ends_with("apikey") =>
        {
            KeyClass::GenericSecret
        }
        "key"
            if previous.is_some_and(|word| SECRET_KEY_QUALIFIERS.contains(&word))
                || ["secretkey", "accesskey", "privatekey", "signingkey"]
                    .iter()
                    .any(|suffix| joined.ends_with(suffix)) =>
        {
            KeyClass::GenericSecret
        }
        "id" if joined.ends_with("accesskeyid") => KeyClass::GenericSecret,
        "user" | "username" | "usr" | "logname" | "ruser" => KeyClass::Username,
        "id" if previous == Some("user") => KeyClass::Username,
        _ if joined.ends_with("username") => KeyClass::Username,
        "host" | "hostname" | "node" | "nodename" | "machine" | "machinename" | "computer"
        | "computername" | "workstation" | "server" | "servername" | "rhost" => KeyClass::Hostname,
        _ if [
            "hostname",
            "nodename",
            "machinename",
            "computername",
            "servername",
        ]
        .iter()
        .any(|suffix| joined.ends_with(suffix)) =>
        {
            KeyClass::Hostname
        }
        _ => return None,
    };
    Some(class)
}

/// The value that starts at `pos`: a quoted string (also JSON-escaped
/// `\"…\"`) or a bare word.
fn value_after(text: &str, pos: usize) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let window_end = text.len().min(pos + MAX_VALUE_BYTES);
    let limit = bytes[pos.min(window_end)..window_end]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(window_end, |i| pos + i);
    let mut i = pos;
    let escaped_quote =
        bytes.get(i) == Some(&b'\\') && matches!(bytes.get(i + 1), Some(b'"' | b'\''));
    if escaped_quote {
        i += 1;
    }
    let (start, end) = match bytes.get(i) {
        Some(&quote @ (b'"' | b'\'')) => {
            let start = i + 1;
            let mut j = start;
            let mut end = None;
            while j < limit {
                if bytes[j] == quote {
                    let preceded_by_backslash = j > start && bytes[j - 1] == b'\\';
                    if escaped_quote && preceded_by_backslash {
                        end = Some(j - 1);
                        break;
                    }
                    if !escaped_quote && !preceded_by_backslash {
                        end = Some(j);
                        break;
                    }
                }
                j += 1;
            }
            (start, end?)
        }
        _ => {
            let start = i;
            let len = bytes[start..limit]
                .iter()
                .position(|&b| {
                    b.is_ascii_whitespace()
                        || matches!(
                            b,
                            b'"' | b'\''
                                | b','
                                | b';'
                                | b'&'
                                | b'}'
                                | b']'
                                | b')'
                                | b'>'
                                | b'<'
                                | b'\\'
                        )
                })
                .unwrap_or(limit - start);
            (start, start + len)
        }
    };
    (end > start && text.is_char_boundary(start) && text.is_char_boundary(end))
        .then_some((start, end))
}

/// `key=…` with a non-empty key and something other than padding after
/// the `=`.
fn looks_like_assignment(value: &str) -> bool {
    let key_len = value
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        .count();
    key_len > 0
        && value[key_len..].starts_with('=')
        && !value[key_len..].starts_with("==")
        && value.len() > key_len + 1
}

/// Words that a log writes after `password:` when reporting on a password
/// rather than printing it.
#[rustfmt::skip]
const PASSWORD_STATUS_WORDS: &[&str] = &[
    "incorrect", "invalid", "expired", "required", "wrong", "missing", "failed", "ok", "true",
    "false", "changed", "reset", "updated", "set", "mismatch", "accepted", "rejected", "provided",
    "yes", "no", "all", "password", "passwords", "for", "the", "is", "was", "has", "not", "user",
    "authentication", "successfully", "unchanged", "too", "bad", "weak", "strong", "blank", "enter",
    "please", "new", "old", "current", "confirm", "ignored", "supplied", "used", "sent", "saved",
    "stored", "hidden",
];

fn acceptable_password(key: &str, value: &str) -> bool {
    if is_masked(value) || PASSWORD_STATUS_WORDS.contains(&value.to_ascii_lowercase().as_str()) {
        return false;
    }
    // `PWD=/home/alice` is the shell's working directory.
    let is_working_dir_key = key_words(key).last().is_some_and(|w| w == "pwd");
    let looks_like_path = value.starts_with(['/', '~']) || value.get(1..3) == Some(":\\");
    let is_working_dir = is_working_dir_key && looks_like_path;
    !is_working_dir && !value.starts_with("//")
}

fn acceptable_secret(value: &str) -> bool {
    !is_masked(value)
        && looks_random(value, 8)
        && !value.contains("://")
        && !value.starts_with('/')
        && !value.contains(' ')
}

/// `Bearer abc…` as a value: the scheme is not part of the token.
fn strip_scheme(value: &str) -> Option<&str> {
    let (scheme, rest) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim_start())
}

/// The account name inside a `user=` value, as offsets into `value`.
/// `DOMAIN\name` reports the name; `name@domain` is an e-mail, not ours.
pub(super) fn username_in(value: &str) -> Option<(usize, usize)> {
    let mut start = 0;
    if let Some(slash) = value.find('\\') {
        let domain = &value[..slash];
        if !domain.is_empty()
            && domain
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        {
            start = slash + value[slash..].bytes().take_while(|&b| b == b'\\').count();
        }
    }
    let rest = &value[start..];
    let len = rest
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'$'))
        .count();
    let name = rest[..len].trim_end_matches(['.', '-']);
    if rest.as_bytes().get(len) == Some(&b'@') || !acceptable_username(name) {
        return None;
    }
    Some((start, start + name.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(PiiType, &str)> {
        let detector = KeyedValueDetector::new().expect("test input is valid");
        let mut out = Vec::new();
        detector.detect(text, &mut out);
        out.sort_by_key(|c| (c.start, c.end));
        out.iter()
            .map(|c| (c.kind, &text[c.start..c.end]))
            .collect()
    }

    #[test]
    fn passwords_in_every_syntax() {
        assert_eq!(
            found("DB_PASSWORD=hunter22 next"),
            vec![(PiiType::Password, "hunter22")]
        );
        assert_eq!(
            found(r#"{"password": "a b c"}"#),
            vec![(PiiType::Password, "a b c")]
        );
        assert_eq!(
            found(r#"{\"password\": \"s3cr3t\"}"#),
            vec![(PiiType::Password, "s3cr3t")]
        );
        assert_eq!(
            found("Server=x;Password=YD50Uwx;Encrypt=True"),
            vec![(PiiType::Password, "YD50Uwx")]
        );
        assert_eq!(found("  password: ***"), vec![]);
        assert_eq!(found("PWD=/home/alice ; USER=root"), vec![]);
        assert_eq!(found("password: incorrect"), vec![]);
        assert_eq!(found("bypass=1"), vec![]);
        assert_eq!(
            found("pam_unix(passwd:chauthtok): password changed"),
            vec![]
        );
    }

    #[test]
    fn secrets_and_tokens() {
        assert_eq!(
            found("JWT_SIGNING_KEY=SxRGMLCF6xvcbBURyWVtRW SMTP_FROM=x"),
            vec![(PiiType::ApiKey, "SxRGMLCF6xvcbBURyWVtRW")]
        );
        assert_eq!(
            found("dns_cloudflare_api_token = Ov16aUkYflev4WJy8W5B"),
            vec![(PiiType::ApiKey, "Ov16aUkYflev4WJy8W5B")]
        );
        assert_eq!(
            found(r#""access_token": "Bearer ab12CD34ef56""#),
            vec![(PiiType::BearerToken, "ab12CD34ef56")]
        );
        assert!(found("max_tokens=1024 secretName: billing-db GITHUB_TOKEN=***").is_empty());
        assert!(
            found("/reset?token=abcdef123456").is_empty(),
            "left to the URL rule"
        );
    }

    #[test]
    fn users_and_hosts() {
        assert_eq!(
            found("[user: ivanovar] x"),
            vec![(PiiType::Username, "ivanovar")]
        );
        assert_eq!(
            found("User:ivanovar  logged"),
            vec![(PiiType::Username, "ivanovar")]
        );
        assert!(found("user=billing@acme-corp.com USER=root uid=1004").is_empty());
        assert!(found("logname= uid=0 ruser= rhost=192.0.2.77").is_empty());
        assert!(found("user=system:serviceaccount:prod:api").is_empty());
        assert_eq!(
            found("node=worker-07 pod=x"),
            vec![(PiiType::Hostname, "worker-07")]
        );
        assert!(found("server: shop.acme-corp.com, host=10.0.0.5").is_empty());
    }
}
