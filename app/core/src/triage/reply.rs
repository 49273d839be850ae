//! Reading a model's reply: the structured block TFTSR asks for, a
//! labelled-lines form models often fall back to, and plain prose as the
//! last resort.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// The fence tag of the block the model is asked to end its reply with.
pub const BLOCK_TAG: &str = "triage";

/// Longest answer, question or root cause kept from a reply, in characters.
pub const FIELD_MAX: usize = 2_000;

/// What a reply contributes to the 5 Whys.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParsedReply {
    /// The reply as shown to the engineer, without the structured block.
    pub text: String,
    /// The answer to the current why-question, if the reply gives one.
    pub answer: Option<String>,
    /// The question the reply says it answers (models sometimes rephrase).
    pub question: Option<String>,
    /// Citations (`file:line`) or quoted evidence lines.
    pub evidence: Vec<String>,
    /// The next why-question.
    pub next_question: Option<String>,
    /// Set when the reply says the root cause is reached.
    pub root_cause: Option<String>,
    /// How the reply was read.
    pub format: ReplyFormat,
}

/// How a reply was understood.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyFormat {
    /// The fenced JSON block.
    Block,
    /// `Answer:` / `Next question:` / `Root cause:` lines.
    Labelled,
    /// Neither: guessed from the prose.
    #[default]
    Heuristic,
}

#[derive(Deserialize)]
struct Block {
    #[serde(default, alias = "why", alias = "step", alias = "level")]
    _level: Option<serde_json::Value>,
    #[serde(default)]
    question: Option<String>,
    #[serde(default)]
    answer: Option<String>,
    #[serde(default)]
    evidence: Option<serde_json::Value>,
    #[serde(default, alias = "next", alias = "nextQuestion")]
    next_question: Option<String>,
    #[serde(default, alias = "rootCause")]
    root_cause: Option<String>,
}

static FENCE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?s)```[ \t]*(?:triage|json)?[ \t]*\r?\n(\{.*?\})\s*```").ok());

static LABEL: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?im)^[ \t>*_#-]*(?:\*\*)?",
        r"(answer|evidence|next question|next why|next|root cause|question|why ?[1-5])",
        r"(?:\*\*)?[ \t]*[:：](?:\*\*)?[ \t]*(.*)$",
    ))
    .ok()
});

static CITATION: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"[A-Za-z0-9_.\-]+\.(?:log|txt|json|out|err|gz|csv):\d+").ok());

static ROOT_CAUSE_PROSE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)\bthe root cause (?:is|was|appears to be|seems to be)\s*:?\s*([^\n]+)").ok()
});

fn clean(text: &str) -> Option<String> {
    let text = text.trim().trim_matches('*').trim();
    if text.is_empty()
        || matches!(
            text.to_ascii_lowercase().as_str(),
            "null" | "none" | "n/a" | "-"
        )
    {
        return None;
    }
    Some(super::digest::shorten(text, FIELD_MAX))
}

fn evidence_list(value: &serde_json::Value) -> Vec<String> {
    match value {
        serde_json::Value::String(s) => s.split([',', ';', '\n']).filter_map(clean).collect(),
        serde_json::Value::Array(items) => items
            .iter()
            .filter_map(|v| match v {
                serde_json::Value::String(s) => clean(s),
                other => clean(&other.to_string()),
            })
            .collect(),
        _ => Vec::new(),
    }
    .into_iter()
    .take(20)
    .collect()
}

/// Reads a reply.
pub fn parse_reply(reply: &str) -> ParsedReply {
    if let Some(parsed) = parse_block(reply) {
        return parsed;
    }
    if let Some(parsed) = parse_labelled(reply) {
        return parsed;
    }
    parse_prose(reply)
}

fn parse_block(reply: &str) -> Option<ParsedReply> {
    let fence = FENCE.as_ref()?;
    // The last block wins: models sometimes quote the format first.
    let caps = fence.captures_iter(reply).last()?;
    let whole = caps.get(0)?;
    let block: Block = serde_json::from_str(caps.get(1)?.as_str()).ok()?;
    let mut text = String::new();
    text.push_str(reply[..whole.start()].trim_end());
    let tail = reply[whole.end()..].trim();
    if !tail.is_empty() {
        text.push_str("\n\n");
        text.push_str(tail);
    }
    Some(ParsedReply {
        text: text.trim().to_owned(),
        answer: block.answer.as_deref().and_then(clean),
        question: block.question.as_deref().and_then(clean),
        evidence: block
            .evidence
            .as_ref()
            .map(evidence_list)
            .unwrap_or_default(),
        next_question: block.next_question.as_deref().and_then(clean),
        root_cause: block.root_cause.as_deref().and_then(clean),
        format: ReplyFormat::Block,
    })
}

fn parse_labelled(reply: &str) -> Option<ParsedReply> {
    let label = LABEL.as_ref()?;
    let mut parsed = ParsedReply {
        text: reply.trim().to_owned(),
        format: ReplyFormat::Labelled,
        ..ParsedReply::default()
    };
    let mut found = false;
    for caps in label.captures_iter(reply) {
        let (Some(key), Some(value)) = (caps.get(1), caps.get(2)) else {
            continue;
        };
        let key = key.as_str().to_ascii_lowercase();
        let value = value.as_str();
        match key.as_str() {
            "answer" => parsed.answer = clean(value),
            "evidence" => parsed.evidence = evidence_list(&serde_json::Value::from(value)),
            "next question" | "next why" | "next" => parsed.next_question = clean(value),
            "root cause" => parsed.root_cause = clean(value),
            _ => parsed.question = clean(value),
        }
        found = true;
    }
    let useful =
        parsed.answer.is_some() || parsed.root_cause.is_some() || parsed.next_question.is_some();
    (found && useful).then_some(parsed)
}

fn parse_prose(reply: &str) -> ParsedReply {
    let text = reply.trim();
    let root_cause = ROOT_CAUSE_PROSE
        .as_ref()
        .and_then(|re| re.captures(text))
        .and_then(|c| c.get(1))
        .and_then(|m| clean(m.as_str().trim_end_matches('.')));
    // The last question asked becomes the next why-question.
    let next_question = text
        .split_inclusive(['?', '.', '!', '\n'])
        .map(str::trim)
        .rfind(|s| s.ends_with('?') && s.len() > 8)
        .and_then(clean);
    // The first paragraph answers the current question, unless it is itself
    // only a question (the model asking for more information).
    let first = text.split("\n\n").map(str::trim).find(|p| !p.is_empty());
    let answer = first.filter(|p| !p.ends_with('?')).and_then(|p| {
        clean(
            p.lines()
                .map(str::trim)
                .collect::<Vec<_>>()
                .join(" ")
                .as_str(),
        )
    });
    let evidence = CITATION
        .as_ref()
        .map(|re| {
            re.find_iter(text)
                .map(|m| m.as_str().to_owned())
                .take(20)
                .collect()
        })
        .unwrap_or_default();
    ParsedReply {
        text: text.to_owned(),
        answer,
        question: None,
        evidence,
        next_question,
        root_cause,
        format: ReplyFormat::Heuristic,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fenced_block_is_read_and_removed_from_the_text() {
        let reply = "The pool ran dry at 08:01.\n\n```triage\n{\"why\": 2, \"question\": \"Why did requests fail?\", \"answer\": \"The DB pool was exhausted.\", \"evidence\": [\"app.log:1022\", \"db.log:7\"], \"next_question\": \"Why was the pool exhausted?\", \"root_cause\": null}\n```\n";
        let p = parse_reply(reply);
        assert_eq!(p.format, ReplyFormat::Block);
        assert_eq!(p.text, "The pool ran dry at 08:01.");
        assert_eq!(p.answer.as_deref(), Some("The DB pool was exhausted."));
        assert_eq!(p.evidence, vec!["app.log:1022", "db.log:7"]);
        assert_eq!(
            p.next_question.as_deref(),
            Some("Why was the pool exhausted?")
        );
        assert_eq!(p.root_cause, None);
    }

    #[test]
    fn a_plain_json_fence_and_string_evidence_work_too() {
        let reply = "```json\n{\"answer\":\"x\",\"evidence\":\"a.log:1, b.log:2\",\"rootCause\":\"cron job\"}\n```";
        let p = parse_reply(reply);
        assert_eq!(p.evidence, vec!["a.log:1", "b.log:2"]);
        assert_eq!(p.root_cause.as_deref(), Some("cron job"));
    }

    #[test]
    fn broken_json_falls_back_to_labels() {
        let reply = "Looking at the logs.\n\n**Answer:** The disk filled up.\nEvidence: app.log:3\n**Next question:** Why did the disk fill up?\n```triage\n{\"answer\": \"unterminated\n```";
        let p = parse_reply(reply);
        assert_eq!(p.format, ReplyFormat::Labelled);
        assert_eq!(p.answer.as_deref(), Some("The disk filled up."));
        assert_eq!(p.evidence, vec!["app.log:3"]);
        assert_eq!(
            p.next_question.as_deref(),
            Some("Why did the disk fill up?")
        );
    }

    #[test]
    fn prose_gives_an_answer_and_the_last_question() {
        let reply = "Requests failed because the connection pool was exhausted (see app.log:1022).\n\nWhat changed in the pool size recently? Why would the pool be exhausted?";
        let p = parse_reply(reply);
        assert_eq!(p.format, ReplyFormat::Heuristic);
        assert!(
            p.answer
                .as_deref()
                .is_some_and(|a| a.starts_with("Requests failed"))
        );
        assert_eq!(
            p.next_question.as_deref(),
            Some("Why would the pool be exhausted?")
        );
        assert_eq!(p.evidence, vec!["app.log:1022"]);
    }

    #[test]
    fn a_clarifying_question_is_not_an_answer() {
        let p = parse_reply("Which service restarted first?");
        assert_eq!(p.answer, None);
        assert_eq!(
            p.next_question.as_deref(),
            Some("Which service restarted first?")
        );
    }

    #[test]
    fn root_cause_in_prose() {
        let p = parse_reply(
            "So the root cause is: a cron job that rotated the TLS cert without reloading nginx.",
        );
        assert_eq!(
            p.root_cause.as_deref(),
            Some("a cron job that rotated the TLS cert without reloading nginx")
        );
    }

    #[test]
    fn never_panics_on_odd_input() {
        for reply in [
            "",
            "```",
            "```triage\n{}\n```",
            "Answer:",
            "？？？",
            "```json\n[1,2]\n```",
        ] {
            let _ = parse_reply(reply);
        }
        let p = parse_reply("```triage\n{}\n```");
        assert_eq!(p.answer, None);
    }
}
