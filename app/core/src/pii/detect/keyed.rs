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

use super::account::acceptable_username;
use super::host::acceptable_machine_name;
use super::key_words;
use crate::pii::config::PiiConfigError;
use crate::pii::kind::PiiType;
use crate::pii::literal::Anchored;
use crate::pii::prefilter::Prefilter;
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
    assignment: Anchored,
}

/// Every spelling of the key word in the assignment pattern (its group 1
/// without the optional `[_.-]?id`), matched ignoring ASCII case.
#[rustfmt::skip]
const KEY_WORD_FORMS: &[&str] = &[
    "pass", "password", "passwd", "passphrase", "pwd", "secret", "token", "key", "credential",
    "credentials", "signature", "user", "username", "usr", "logname", "host", "hostname", "node",
    "nodename", "machine", "machinename", "computer", "computername", "workstation", "server",
    "servername",
];

impl KeyedValueDetector {
    pub(crate) fn new() -> Result<Self, PiiConfigError> {
        Ok(Self {
            // ASCII-case-insensitive key words (`-u` keeps `ſ` from passing
            // for `s`); the rest of the key is read backwards from there.
            // The words are too common for a literal search to pay, so
            // matches are looked for only where a key word ends right
            // before a separator (see [`KeyStarts`]).
            assignment: Anchored::new(
                "keyed",
                concat!(
                    "(?i-u)(?:pass(?:word|wd|phrase)?|pwd|secret|token|key|credentials?|signature",
                    "|user(?:name)?|usr|logname|host(?:name)?|node(?:name)?|machine(?:name)?",
                    "|computer(?:name)?|workstation|server(?:name)?)(?:[_.-]?id)?",
                    "\\\\?[\"']?[ \\t]*[:=][ \\t]*"
                ),
            )?,
        })
    }

    pub(crate) fn detect(&self, text: &str, keys: &KeyStarts, out: &mut Vec<Candidate>) {
        let mut matches = Vec::new();
        self.assignment
            .find_at(text, keys.assignment.clone(), |start, end| {
                matches.push((start, end));
            });
        for (whole_start, whole_end) in matches {
            value_of_assignment(text, whole_start, whole_end, out);
        }
    }
}

/// Where the patterns that start with a key word followed by `:` or `=`
/// may match, found in one pass over those separators and read backwards
/// from each. Each list holds every start of its pattern's matches (and
/// more), for [`Anchored::find_at`]: the patterns' key words are matched
/// ignoring ASCII case only, so the ASCII comparisons here miss none.
pub(crate) struct KeyStarts {
    /// This module's assignments: a key word, optionally `[_.-]?id`, `\`,
    /// a quote and blanks, then `:` or `=`.
    pub(crate) assignment: Vec<usize>,
    /// `ssn:`, `"social_security_number" =`, … (no backslash).
    pub(crate) ssn: Vec<usize>,
    /// `Authorization:` (shaped like an assignment).
    pub(crate) authorization: Vec<usize>,
    /// `Cookie:` and `Set-Cookie:` (shaped like an assignment, `:` only).
    pub(crate) cookie: Vec<usize>,
    /// Session cookie names right before `=`.
    pub(crate) session: Vec<usize>,
}

/// Cookie names whose values are sessions (the session-cookie pattern's
/// alternatives).
pub(crate) const SESSION_COOKIES: &[&str] = &[
    "JSESSIONID",
    "PHPSESSID",
    "ASP.NET_SessionId",
    "connect.sid",
    "laravel_session",
    "_session_id",
    "session_token",
    "sessionid",
    "remember_token",
];

/// The bytes a key of [`KeyStarts`] can end with (either case), or that can
/// come between it and the blanks before its separator.
const KEY_END_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    table[b'"' as usize] = true;
    table[b'\'' as usize] = true;
    table[b'\\' as usize] = true;
    let lists: [&[&str]; 3] = [
        KEY_WORD_FORMS,
        SESSION_COOKIES,
        &[
            "id",
            "ssn",
            "number",
            "no",
            "security",
            "authorization",
            "cookie",
        ],
    ];
    let mut list = 0;
    while list < lists.len() {
        let mut index = 0;
        while index < lists[list].len() {
            let word = lists[list][index].as_bytes();
            let last = word[word.len() - 1];
            table[last.to_ascii_lowercase() as usize] = true;
            table[last.to_ascii_uppercase() as usize] = true;
            index += 1;
        }
        list += 1;
    }
    table
};

/// Whether `bytes[..end]` ends with `word`, ignoring ASCII case.
fn ends_with_word(bytes: &[u8], end: usize, word: &[u8]) -> bool {
    end >= word.len() && bytes[end - word.len()..end].eq_ignore_ascii_case(word)
}

impl KeyStarts {
    /// Reads back from each of the `:` and `=` that `prefilter` found after
    /// a letter, a quote, a backslash or a blank; no key ends otherwise.
    pub(crate) fn new(text: &str, prefilter: &Prefilter) -> Self {
        let mut starts = Self {
            assignment: Vec::new(),
            ssn: Vec::new(),
            authorization: Vec::new(),
            cookie: Vec::new(),
            session: Vec::new(),
        };
        starts.read_separators(text.as_bytes(), &prefilter.separators);
        starts
    }

    fn read_separators(&mut self, bytes: &[u8], separators: &[usize]) {
        let Self {
            assignment: starts,
            ssn,
            authorization,
            cookie,
            session,
        } = self;
        for &separator in separators {
            let is_colon = bytes[separator] == b':';
            // The blanks before the separator: the byte before them (a quote, a
            // backslash or the key's last letter) is never a blank.
            let mut end = separator;
            while end > 0 && matches!(bytes[end - 1], b' ' | b'\t') {
                end -= 1;
            }
            // Every key ends with one of a few letters, possibly followed by a
            // quote or a backslash: most separators (clock times,
            // `prog[42]:`) are ruled out here.
            if end == 0 || !KEY_END_BYTE[usize::from(bytes[end - 1])] {
                continue;
            }
            if !is_colon && end == separator {
                for name in SESSION_COOKIES {
                    if ends_with_word(bytes, separator, name.as_bytes()) {
                        session.push(separator - name.len());
                    }
                }
            }
            // Before the blanks: an optional quote, before it an optional
            // backslash; the key word (and `id`) ends before those.
            let mut key_ends = [end; 4];
            let mut count = 1;
            let mut push = |key_end: usize| {
                key_ends[count] = key_end;
                count += 1;
            };
            let backslash_before = |pos: usize| pos > 0 && bytes[pos - 1] == b'\\';
            if backslash_before(end) {
                push(end - 1);
            }
            if end > 0 && matches!(bytes[end - 1], b'"' | b'\'') {
                push(end - 1);
                if backslash_before(end - 1) {
                    push(end - 2);
                }
            }
            // The SSN key takes a quote but no backslash.
            push_ssn_key_starts(bytes, end, ssn);
            if end > 0 && matches!(bytes[end - 1], b'"' | b'\'') {
                push_ssn_key_starts(bytes, end - 1, ssn);
            }
            for &key_end in &key_ends[..count] {
                push_key_word_starts(bytes, key_end, starts);
                if key_end >= 2 && bytes[key_end - 2..key_end].eq_ignore_ascii_case(b"id") {
                    push_key_word_starts(bytes, key_end - 2, starts);
                    if key_end >= 3 && matches!(bytes[key_end - 3], b'_' | b'.' | b'-') {
                        push_key_word_starts(bytes, key_end - 3, starts);
                    }
                }
                if ends_with_word(bytes, key_end, b"authorization") {
                    authorization.push(key_end - b"authorization".len());
                }
                if is_colon && ends_with_word(bytes, key_end, b"cookie") {
                    let cookie_start = key_end - b"cookie".len();
                    cookie.push(cookie_start);
                    if ends_with_word(bytes, cookie_start, b"set-") {
                        cookie.push(cookie_start - b"set-".len());
                    }
                }
            }
        }
    }
}

/// Starts of the SSN key forms (`ssn`, `social[_ -]?security`, then
/// optionally `[_ -]?(number|no)`) that end at `end`.
fn push_ssn_key_starts(bytes: &[u8], end: usize, starts: &mut Vec<usize>) {
    // `ssn`, `security`, `number` and `no` end the key.
    if end == 0
        || !matches!(
            bytes[end - 1].to_ascii_lowercase(),
            b'n' | b'y' | b'r' | b'o'
        )
    {
        return;
    }
    if ends_with_word(bytes, end, b"ssn") {
        starts.push(end - 3);
    }
    let is_joiner = |at: usize| at > 0 && matches!(bytes[at - 1], b'_' | b' ' | b'-');
    let mut security_ends = [end; 5];
    let mut count = 1;
    for suffix in [&b"number"[..], b"no"] {
        if ends_with_word(bytes, end, suffix) {
            let before = end - suffix.len();
            security_ends[count] = before;
            count += 1;
            if is_joiner(before) {
                security_ends[count] = before - 1;
                count += 1;
            }
        }
    }
    for &security_end in &security_ends[..count] {
        if !ends_with_word(bytes, security_end, b"security") {
            continue;
        }
        let before = security_end - b"security".len();
        for social_end in [Some(before), is_joiner(before).then(|| before - 1)]
            .into_iter()
            .flatten()
        {
            if ends_with_word(bytes, social_end, b"social") {
                starts.push(social_end - b"social".len());
            }
        }
    }
}

/// The last three bytes of a word, lower-cased, as one number.
const fn tail3(bytes: &[u8], end: usize) -> u32 {
    (bytes[end - 3].to_ascii_lowercase() as u32) << 16
        | (bytes[end - 2].to_ascii_lowercase() as u32) << 8
        | bytes[end - 1].to_ascii_lowercase() as u32
}

/// [`KEY_WORD_FORMS`] with their [`tail3`], sorted by it, so that most
/// positions are ruled out by a binary search.
const KEY_WORD_TAILS: [(u32, &str); KEY_WORD_FORMS.len()] = {
    let mut table = [(0, ""); KEY_WORD_FORMS.len()];
    let mut index = 0;
    while index < KEY_WORD_FORMS.len() {
        let word = KEY_WORD_FORMS[index];
        table[index] = (tail3(word.as_bytes(), word.len()), word);
        index += 1;
    }
    // Insertion sort: `sort` is not const.
    let mut sorted = 1;
    while sorted < table.len() {
        let mut j = sorted;
        while j > 0 && table[j - 1].0 > table[j].0 {
            let swap = table[j - 1];
            table[j - 1] = table[j];
            table[j] = swap;
            j -= 1;
        }
        sorted += 1;
    }
    table
};

/// A slot for the last two bytes of a word, ignoring ASCII case (letters
/// only matter here; other bytes may share slots).
const fn tail2_index(second_last: u8, last: u8) -> usize {
    ((second_last.to_ascii_lowercase() as usize & 31) << 5)
        | (last.to_ascii_lowercase() as usize & 31)
}

/// Whether some key word form ends with two bytes of that slot.
const TAIL2: [bool; 1024] = {
    let mut table = [false; 1024];
    let mut index = 0;
    while index < KEY_WORD_FORMS.len() {
        let word = KEY_WORD_FORMS[index].as_bytes();
        table[tail2_index(word[word.len() - 2], word[word.len() - 1])] = true;
        index += 1;
    }
    table
};

/// Whether a byte can end a key word form, either case.
const LAST_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut index = 0;
    while index < KEY_WORD_FORMS.len() {
        let word = KEY_WORD_FORMS[index].as_bytes();
        let last = word[word.len() - 1];
        table[last as usize] = true;
        table[last.to_ascii_uppercase() as usize] = true;
        index += 1;
    }
    table
};

/// Starts of the key word forms that end at `end`.
fn push_key_word_starts(bytes: &[u8], end: usize, starts: &mut Vec<usize>) {
    if end < 3 || !LAST_BYTE[usize::from(bytes[end - 1])] {
        return;
    }
    if !TAIL2[tail2_index(bytes[end - 2], bytes[end - 1])] {
        return;
    }
    let tail = tail3(bytes, end);
    let first = KEY_WORD_TAILS.partition_point(|&(word_tail, _)| word_tail < tail);
    for &(word_tail, word) in &KEY_WORD_TAILS[first..] {
        if word_tail != tail {
            break;
        }
        let len = word.len();
        if end >= len && bytes[end - len..end].eq_ignore_ascii_case(word.as_bytes()) {
            starts.push(end - len);
        }
    }
}

/// Reports the value of the assignment `text[whole_start..whole_end]` (key
/// word and separator), if its key and value are telling.
fn value_of_assignment(text: &str, whole_start: usize, whole_end: usize, out: &mut Vec<Candidate>) {
    let bytes = text.as_bytes();
    {
        // The key word (group 1 of the pattern) ends where the
        // separator begins: none of its bytes can be in the key.
        let key_word_end = whole_start
            + bytes[whole_start..whole_end]
                .iter()
                .position(|b| matches!(b, b'\\' | b'"' | b'\'' | b' ' | b'\t' | b':' | b'='))
                .unwrap_or(whole_end - whole_start);
        let mut key_start = whole_start;
        while key_start > 0
            && (bytes[key_start - 1].is_ascii_alphanumeric()
                || matches!(bytes[key_start - 1], b'_' | b'.' | b'-'))
        {
            key_start -= 1;
        }
        let key = &text[key_start..key_word_end];
        // `==` is a comparison, not an assignment; `(passwd:chauthtok)`
        // is a PAM service and its action.
        let pam_label =
            byte_before(text, key_start) == Some(b'(') && &text[key_word_end..whole_end] == ":";
        if byte_at(text, whole_end) == Some(b'=') || pam_label {
            return;
        }
        let Some(class) = classify_key(key) else {
            return;
        };
        // Secret query parameters belong to the URL rule.
        let in_query = matches!(byte_before(text, key_start), Some(b'?' | b'&'));
        if in_query
            && matches!(
                class,
                KeyClass::Password | KeyClass::GenericSecret | KeyClass::OauthToken
            )
        {
            return;
        }
        let Some((start, end)) = value_after(text, whole_end) else {
            return;
        };
        let value = &text[start..end];
        // "ruser= rhost=10.0.0.1": the key had no value and the next
        // pair follows.
        let skipped_space = matches!(byte_before(text, start), Some(b' ' | b'\t'));
        if skipped_space && looks_like_assignment(value) {
            return;
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
                    .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
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

    /// Every pattern tried only at [`KeyStarts`] finds what a search of the
    /// whole text finds.
    #[test]
    fn key_starts_hold_every_match_start() {
        type Pick = fn(&KeyStarts) -> &Vec<usize>;
        let patterns: Vec<(&str, Pick)> = vec![
            (
                "(?i-u:ssn|social[_ -]?security(?:[_ -]?(?:number|no))?)[\"']?[ \\t]*[:=][ \\t]*[\"']?([0-9]{3}[ -]?[0-9]{2}[ -]?[0-9]{4})",
                |k| &k.ssn,
            ),
            (
                "(?i)authorization\\\\?[\"']?[ \\t]*[:=][ \\t]*\\\\?[\"']?(?:(bearer|token|basic)[ \\t]+)?([A-Za-z0-9._~+/=-]{8,})",
                |k| &k.authorization,
            ),
            (
                "(?i-u:(set-)?cookie)\\\\?[\"']?[ \\t]*:[ \\t]*([^\\r\\n\"']+)",
                |k| &k.cookie,
            ),
            (
                "(?i-u:JSESSIONID|ASP\\.NET_SessionId|connect\\.sid|_session_id|sessionid)=([^;\\s\"'&,]{8,})",
                |k| &k.session,
            ),
        ];
        let texts = [
            "SSN: 123-45-6789, social security number=123 45 6789 Social_Security_No \"987654321\"",
            "x_ssn\":\"123456789\" socialsecurity = '123-45-6789' social-security-NO:123456789",
            "ssnssn:123456789 ssn ssn : 123456789 SOCIAL SECURITY: 111-22-3333",
            "Authorization: Bearer abcdefgh1234 authorization\\\": \\\"token xyzxyzxyz9\" AUTHORIZATION=basicabc12345",
            "Cookie: a=b; sid=xyz Set-Cookie:\tJSESSIONID=abcdefgh123; Path=/ set-cookie\\\": x=y",
            "JSESSIONID=ABCDEFGH12 connect.sid=s%3Aabcdefgh _session_id=abcdefgh1 sessionid==abcdefgh1",
            "asp.net_sessionid=abcdefgh12 xsessionid=aaaaaaaaa9 cookie:cookie:x",
        ];
        for (pattern, pick) in patterns {
            let plain = regex::Regex::new(pattern).expect("test input is valid");
            let anchored = Anchored::new("test", pattern).expect("test input is valid");
            let mut total = 0;
            for text in texts {
                let want: Vec<(usize, usize)> = plain
                    .find_iter(text)
                    .map(|m| (m.start(), m.end()))
                    .collect();
                let mut got = Vec::new();
                anchored.find_at(
                    text,
                    pick(&KeyStarts::new(text, &Prefilter::new(text))).clone(),
                    |s, e| {
                        got.push((s, e));
                    },
                );
                assert_eq!(got, want, "{pattern} on {text}");
                total += want.len();
            }
            assert!(total >= 2, "{pattern} found only {total}");
        }
    }

    fn found(text: &str) -> Vec<(PiiType, &str)> {
        let detector = KeyedValueDetector::new().expect("test input is valid");
        let mut out = Vec::new();
        detector.detect(text, &KeyStarts::new(text, &Prefilter::new(text)), &mut out);
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
