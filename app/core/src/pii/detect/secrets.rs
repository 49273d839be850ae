//! Credentials whose format or position gives them away: JWTs, vendor API
//! keys, `Authorization` headers, session cookies, secret URL query
//! parameters and `scheme://user:password@host` URLs.
//!
//! Values assigned to secret-sounding keys (`DB_PASSWORD=`, `"api_key":`)
//! are the job of [`super::keyed`]; this module covers what can be
//! recognised without knowing the key.

use std::ops::Range;

use regex::Regex;

use super::account::acceptable_username;
use super::keyed::{KeyStarts, SESSION_COOKIES};
use super::{compile, key_words};
use crate::pii::config::PiiConfigError;
use crate::pii::kind::PiiType;
use crate::pii::literal::Anchored;
use crate::pii::prefilter::for_each_run;
use crate::pii::resolve::{Candidate, rank};
use crate::pii::text::{byte_at, byte_before, is_masked, is_word_byte, looks_random};

pub(crate) struct SecretDetector {
    /// A literal that every match of `jwt`, `vendor_key` and `webhook`
    /// holds; those run only on the run of [`is_token_byte`]s around one.
    token_literals: Regex,
    jwt: Regex,
    vendor_key: Regex,
    webhook: Regex,
    /// The patterns below are tried only where [`KeyStarts`] found their
    /// key before a `:` or `=`.
    authorization: Anchored,
    bearer: Regex,
    cookie_header: Anchored,
    session_cookie: Anchored,
    query_secret: Regex,
    url_credentials: Regex,
}

impl SecretDetector {
    pub(crate) fn new() -> Result<Self, PiiConfigError> {
        Ok(Self {
            token_literals: compile(
                "api_key",
                concat!(
                    "eyJ|hooks\\.slack\\.com/|discord",
                    "|AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA|gh[pousr]_|github_pat_",
                    "|gl(?:pat|dt|rt|ptt)-|xox[abposr]-|xapp-|[sr]k_(?:live|test)_|sk-|AIza",
                    "|hv[sb]\\.|npm_|SG\\.|pypi-|do[por]_v1_|shp(?:at|ca|pa|ss)_",
                ),
            )?,
            jwt: compile(
                "jwt",
                "eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{2,}\\.[A-Za-z0-9_-]*",
            )?,
            vendor_key: compile(
                "api_key",
                concat!(
                    "(?-u:\\b)(?:",
                    "(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA)[A-Z0-9]{16}",
                    "|gh[pousr]_[A-Za-z0-9]{36,251}",
                    "|github_pat_[A-Za-z0-9_]{22,255}",
                    "|gl(?:pat|dt|rt|ptt)-[A-Za-z0-9_-]{20,}",
                    "|xox[abposr]-[A-Za-z0-9-]{10,}",
                    "|xapp-[0-9]-[A-Za-z0-9-]{10,}",
                    "|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}",
                    "|sk-ant-[A-Za-z0-9_-]{20,}",
                    "|sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}",
                    "|AIza[0-9A-Za-z_-]{35}",
                    "|hv[sb]\\.[A-Za-z0-9_-]{24,}",
                    "|npm_[A-Za-z0-9]{36}",
                    "|SG\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}",
                    "|pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}",
                    "|do[por]_v1_[a-f0-9]{64}",
                    "|shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}",
                    ")"
                ),
            )?,
            webhook: compile(
                "api_key",
                "hooks\\.slack\\.com/(?:services|workflows)/([A-Za-z0-9]+/[A-Za-z0-9]+/[A-Za-z0-9]+)|discord(?:app)?\\.com/api/webhooks/([0-9]+/[A-Za-z0-9_-]+)",
            )?,
            authorization: Anchored::new(
                "bearer",
                "(?i)authorization\\\\?[\"']?[ \\t]*[:=][ \\t]*\\\\?[\"']?(?:(bearer|token|basic|apikey|api-key|sso-key|key|aws4-hmac-sha256)[ \\t]+)?([A-Za-z0-9._~+/=-]{8,})",
            )?,
            bearer: compile("bearer", "(?i)bearer[ \\t]+([A-Za-z0-9._~+/=-]{8,})")?,
            // The names ignore ASCII case only, so that `ſ` cannot pass for
            // `s` (nor the Kelvin sign for `k`) where no key was looked for.
            cookie_header: Anchored::new(
                "bearer",
                "(?i-u:(set-)?cookie)\\\\?[\"']?[ \\t]*:[ \\t]*([^\\r\\n\"']+)",
            )?,
            session_cookie: Anchored::new(
                "bearer",
                &format!(
                    "(?i-u:{})=([^;\\s\"'&,]{{8,}})",
                    SESSION_COOKIES
                        .iter()
                        .map(|name| regex::escape(name))
                        .collect::<Vec<_>>()
                        .join("|")
                ),
            )?,
            query_secret: compile(
                "url_token",
                "(?i)[?&]([A-Za-z0-9_.-]*(?:token|sig|signature|key|secret|session|sessionid|sid|jwt|code|pass|password|passwd|pwd|credential|otp|auth))=([^&\\s\"'#<>]+)",
            )?,
            url_credentials: compile(
                "password",
                "[A-Za-z][A-Za-z0-9+.-]{1,20}://([^\\s/?#@:'\"<>]*)(?::([^\\s/?#'\"<>]*))?@[A-Za-z0-9\\[]",
            )?,
        })
    }

    pub(crate) fn detect(&self, text: &str, keys: &KeyStarts, out: &mut Vec<Candidate>) {
        let literals: Vec<usize> = self
            .token_literals
            .find_iter(text)
            .map(|m| m.start())
            .collect();
        for_each_run(text, &literals, is_token_byte, |run| {
            self.detect_jwt(text, run.clone(), out);
            self.detect_vendor_keys(text, run, out);
        });
        self.detect_authorization(text, keys, out);
        self.detect_cookies(text, keys, out);
        self.detect_query_secrets(text, out);
        self.detect_url_credentials(text, out);
    }

    fn detect_jwt(&self, text: &str, run: Range<usize>, out: &mut Vec<Candidate>) {
        let base = run.start;
        for m in self.jwt.find_iter(&text[run]) {
            let (start, end) = (base + m.start(), base + m.end());
            if byte_before(text, start).is_some_and(|b| is_word_byte(b) || b == b'-') {
                continue;
            }
            let header = m.as_str().split('.').next().unwrap_or("");
            if jwt_header_is_json(header) {
                out.push(Candidate::new(PiiType::Jwt, start, end, rank::JWT));
            }
        }
    }

    fn detect_vendor_keys(&self, text: &str, run: Range<usize>, out: &mut Vec<Candidate>) {
        let base = run.start;
        for m in self.vendor_key.find_iter(&text[run.clone()]) {
            let (start, end) = (base + m.start(), base + m.end());
            if byte_at(text, end).is_some_and(|b| is_word_byte(b) || b == b'-') {
                continue;
            }
            let value = m.as_str();
            // `sk-` also starts ordinary kebab-case words ("sk-learn-…").
            if value.starts_with("sk-") && !looks_random(value, 20) {
                continue;
            }
            out.push(Candidate::new(
                PiiType::ApiKey,
                start,
                end,
                rank::VENDOR_KEY,
            ));
        }
        for caps in self.webhook.captures_iter(&text[run]) {
            if let Some(path) = caps.get(1).or_else(|| caps.get(2)) {
                out.push(Candidate::new(
                    PiiType::ApiKey,
                    base + path.start(),
                    base + path.end(),
                    rank::VENDOR_KEY,
                ));
            }
        }
    }

    fn detect_authorization(&self, text: &str, keys: &KeyStarts, out: &mut Vec<Candidate>) {
        let starts = keys.authorization.clone();
        self.authorization.captures_at(text, starts, |base, caps| {
            let Some(value) = caps.get(2) else { return };
            if byte_before(text, base).is_some_and(|b| b.is_ascii_alphanumeric()) {
                return;
            }
            let scheme = caps.get(1).map(|s| s.as_str().to_ascii_lowercase());
            let value_text = value.as_str();
            if is_masked(value_text) {
                return;
            }
            let (kind, rank) = match scheme.as_deref() {
                // Basic credentials are `user:password` in base64.
                Some("basic") => (PiiType::Password, rank::PASSWORD),
                // SigV4 lists the key id and the signature as `name=value`
                // pairs, which the vendor-key and key-value rules report.
                Some("aws4-hmac-sha256") => return,
                Some(_) => (PiiType::BearerToken, rank::BEARER),
                None if looks_random(value_text, 8) => (PiiType::BearerToken, rank::BEARER),
                None => return,
            };
            out.push(Candidate::new(
                kind,
                base + value.start(),
                base + value.end(),
                rank,
            ));
        });
        for caps in self.bearer.captures_iter(text) {
            let (Some(whole), Some(value)) = (caps.get(0), caps.get(1)) else {
                continue;
            };
            if byte_before(text, whole.start()).is_some_and(is_word_byte) {
                continue;
            }
            // "bearer authentication failed" is prose, not a token.
            if looks_random(value.as_str(), 8) && !is_masked(value.as_str()) {
                out.push(Candidate::new(
                    PiiType::BearerToken,
                    value.start(),
                    value.end(),
                    rank::BEARER,
                ));
            }
        }
    }

    fn detect_cookies(&self, text: &str, keys: &KeyStarts, out: &mut Vec<Candidate>) {
        self.cookie_header
            .captures_at(text, keys.cookie.clone(), |base, caps| {
                let Some(list) = caps.get(2) else { return };
                if byte_before(text, base).is_some_and(|b| is_word_byte(b) || b == b'-') {
                    return;
                }
                let is_set_cookie = caps.get(1).is_some();
                let mut offset = base + list.start();
                for (index, pair) in list.as_str().split(';').enumerate() {
                    let pair_start = offset;
                    offset += pair.len() + 1;
                    let Some(eq) = pair.find('=') else { continue };
                    let name = pair[..eq].trim().to_ascii_lowercase();
                    // Only the first pair of Set-Cookie is a cookie; the rest are
                    // attributes such as Path and Expires.
                    if is_set_cookie && index > 0 {
                        continue;
                    }
                    if matches!(
                        name.as_str(),
                        "path" | "domain" | "expires" | "max-age" | "samesite"
                    ) {
                        continue;
                    }
                    let raw = &pair[eq + 1..];
                    let lead = raw.len() - raw.trim_start().len();
                    // Cookie values never contain spaces or commas; what follows
                    // them is the rest of the log line.
                    let value = raw[lead..]
                        .split(|c: char| c.is_whitespace() || c == ',')
                        .next()
                        .unwrap_or("");
                    if looks_random(value, 8) && !is_masked(value) {
                        let start = pair_start + eq + 1 + lead;
                        out.push(Candidate::new(
                            PiiType::BearerToken,
                            start,
                            start + value.len(),
                            rank::BEARER,
                        ));
                    }
                }
            });
        self.session_cookie
            .captures_at(text, keys.session.clone(), |base, caps| {
                let Some(value) = caps.get(1) else { return };
                if byte_before(text, base)
                    .is_some_and(|b| is_word_byte(b) || b == b'.' || b == b'-')
                {
                    return;
                }
                if !is_masked(value.as_str()) {
                    out.push(Candidate::new(
                        PiiType::BearerToken,
                        base + value.start(),
                        base + value.end(),
                        rank::BEARER,
                    ));
                }
            });
    }

    fn detect_query_secrets(&self, text: &str, out: &mut Vec<Candidate>) {
        for caps in self.query_secret.captures_iter(text) {
            let (Some(name), Some(value)) = (caps.get(1), caps.get(2)) else {
                continue;
            };
            let Some(kind) = classify_query_parameter(name.as_str()) else {
                continue;
            };
            let value_text = value.as_str();
            if value_text.len() < 6 || is_masked(value_text) {
                continue;
            }
            let rank = if kind == PiiType::Password {
                rank::PASSWORD
            } else {
                rank::URL_TOKEN
            };
            out.push(Candidate::new(kind, value.start(), value.end(), rank));
        }
    }

    fn detect_url_credentials(&self, text: &str, out: &mut Vec<Candidate>) {
        for caps in self.url_credentials.captures_iter(text) {
            if let Some(user) = caps.get(1)
                && !user.as_str().is_empty()
                && !is_masked(user.as_str())
                && acceptable_username(user.as_str())
            {
                out.push(Candidate::new(
                    PiiType::Username,
                    user.start(),
                    user.end(),
                    rank::USERNAME,
                ));
            }
            if let Some(password) = caps.get(2)
                && !password.as_str().is_empty()
                && !is_masked(password.as_str())
            {
                out.push(Candidate::new(
                    PiiType::Password,
                    password.start(),
                    password.end(),
                    rank::PASSWORD,
                ));
            }
        }
    }
}

/// The bytes JWTs, vendor keys and webhook URLs are made of. Every word
/// byte is one, so the vendor pattern's leading `\b` sees at a run's edge
/// what it sees in the whole text.
const fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b'-')
}

/// Which query parameters carry secrets, judged by the parameter's words.
fn classify_query_parameter(name: &str) -> Option<PiiType> {
    let words = key_words(name);
    let last = words.last()?.as_str();
    let previous = words.len().checked_sub(2).map(|i| words[i].as_str());
    let joined = words.concat();
    match last {
        "password" | "passwd" | "pwd" | "pass" => Some(PiiType::Password),
        "token" | "sig" | "signature" | "secret" | "jwt" | "otp" | "sessionid" | "sid"
        | "credential" | "session" | "auth" => Some(PiiType::UrlToken),
        "code" if joined == "code" => Some(PiiType::UrlToken),
        "key"
            if previous.is_none()
                || previous.is_some_and(|p| {
                    matches!(
                        p,
                        "api"
                            | "access"
                            | "secret"
                            | "private"
                            | "auth"
                            | "subscription"
                            | "client"
                            | "app"
                            | "sas"
                            | "signing"
                            | "session"
                            | "master"
                    )
                }) =>
        {
            Some(PiiType::UrlToken)
        }
        _ if joined.ends_with("apikey") || joined.ends_with("token") => Some(PiiType::UrlToken),
        _ => None,
    }
}

/// A JWT header is base64url-encoded JSON naming its algorithm.
fn jwt_header_is_json(header: &str) -> bool {
    let Some(bytes) = decode_base64url(header) else {
        return false;
    };
    serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&bytes)
        .is_ok_and(|map| map.contains_key("alg") || map.contains_key("typ"))
}

/// Decodes unpadded base64url; `None` on any other character.
fn decode_base64url(input: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() * 3 / 4);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for b in input.bytes() {
        let value = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        buffer = ((buffer << 6) | u32::from(value)) & 0x00ff_ffff;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(PiiType, &str)> {
        let detector = SecretDetector::new().expect("test input is valid");
        let mut out = Vec::new();
        detector.detect(
            text,
            &KeyStarts::new(text, &crate::pii::prefilter::Prefilter::new(text)),
            &mut out,
        );
        out.sort_by_key(|c| (c.start, c.end, c.kind));
        out.dedup_by_key(|c| (c.start, c.end, c.kind));
        out.iter()
            .map(|c| (c.kind, &text[c.start..c.end]))
            .collect()
    }

    const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";

    #[test]
    fn jwt_requires_a_json_header() {
        assert!(found(&format!("token {JWT} ok")).contains(&(PiiType::Jwt, JWT)));
        assert!(found("eyJub3Rqc29uIGF0IGFsbA.eyJ4Ijp9.abc").is_empty());
    }

    #[test]
    fn vendor_keys() {
        for key in [
            "AKIAMTVCJVGSE632BQOS",
            "ghp_SbB2sHXth7stqWvo0Od7HxVn6t1aRhjqX4ZI",
            "glpat-xYz12345678901234567",
            "xoxb-1234567890-abcdefghij",
            "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
            "sk-proj-abcDEF1234567890abcdef",
            "AIzaSyA1234567890abcdefghijklmnopqrstuv",
            "hvs.CAESIJ1234567890abcdefghijklmn",
            "npm_abcdefghijklmnopqrstuvwxyz0123456789",
        ] {
            assert_eq!(
                found(&format!("x {key} y")),
                vec![(PiiType::ApiKey, key)],
                "{key}"
            );
        }
        assert!(found("pip install sk-learn-contrib-extension").is_empty());
        assert_eq!(
            found("https://hooks.slack.com/services/T0001/B0002/abcDEF123"),
            vec![(PiiType::ApiKey, "T0001/B0002/abcDEF123")]
        );
    }

    #[test]
    fn authorization_and_cookies() {
        assert_eq!(
            found("-H 'Authorization: Bearer Ka6xGce7KPeceGEWWcFNOWy0nQ' -o"),
            vec![(PiiType::BearerToken, "Ka6xGce7KPeceGEWWcFNOWy0nQ")]
        );
        assert_eq!(
            found("Authorization: Basic dXNlcjpwYXNzd29yZA=="),
            vec![(PiiType::Password, "dXNlcjpwYXNzd29yZA==")]
        );
        assert!(found("bearer authentication failed").is_empty());
        assert_eq!(
            found("Cookie: theme=dark; sid=AbC123xYz789qq"),
            vec![(PiiType::BearerToken, "AbC123xYz789qq")]
        );
        assert_eq!(
            found("Set-Cookie: JSESSIONID=A1B2C3D4E5F6; Path=/; HttpOnly"),
            vec![(PiiType::BearerToken, "A1B2C3D4E5F6")]
        );
    }

    #[test]
    fn query_parameters_and_url_credentials() {
        assert_eq!(
            found("GET /reset?token=UZn6IPa3kL6p6JxQ&uid=68408 HTTP/1.1"),
            vec![(PiiType::UrlToken, "UZn6IPa3kL6p6JxQ")]
        );
        assert_eq!(
            found("https://b.s3.amazonaws.com/o?X-Amz-Date=1&X-Amz-Signature=ab12cd34ef56"),
            vec![(PiiType::UrlToken, "ab12cd34ef56")]
        );
        assert!(found("/search?page=2&sort=desc&zip_code=123456").is_empty());
        assert_eq!(
            found("postgresql://billing_svc:correct-horse@db:5432/x"),
            vec![
                (PiiType::Username, "billing_svc"),
                (PiiType::Password, "correct-horse")
            ]
        );
        assert_eq!(
            found("redis://:s3cret@cache:6379"),
            vec![(PiiType::Password, "s3cret")]
        );
        assert!(found("amqp://guest:***@mq/").is_empty());
    }

    #[test]
    fn base64url_decoding() {
        assert_eq!(
            decode_base64url("eyJhIjoxfQ").expect("test input is valid"),
            br#"{"a":1}"#
        );
        assert!(decode_base64url("a+b").is_none());
    }
}
