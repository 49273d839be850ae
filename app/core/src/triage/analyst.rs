//! The built-in analyst: a deterministic, offline stand-in for a model. It
//! reads the digest of the redacted logs and drives the 5 Whys with
//! concrete questions and candidate causes that cite evidence lines: the
//! most frequent error is the first candidate, and each deeper why offers
//! the error or warning that first appeared just before the previous one —
//! a cascade read backwards in time. The engineer confirms a candidate
//! ("yes"), answers in their own words, or stops with "root cause".
//!
//! Its replies carry the same fenced block a model is asked for, so the
//! engine reads them with the same parser.

use std::fmt::Write as _;

use super::digest::{LogDigest, TemplateRef, shorten};
use super::reply::BLOCK_TAG;
use super::state::{Triage, WHY_LEVELS, follow_up_question};

/// How the analyst introduces itself, so nobody mistakes it for a model.
pub const ANALYST_NAME: &str = "Built-in analyst";

/// What the analyst sees.
#[derive(Clone, Copy, Debug)]
pub struct AnalystInput<'a> {
    pub title: &'a str,
    pub digest: &'a LogDigest,
    pub triage: &'a Triage,
    /// The engineer's newest message; `None` to open the conversation.
    pub user_message: Option<&'a str>,
}

/// The candidate cause the logs offer for why `level` (1-based): the top
/// error for the first, then each time the closest earlier error or
/// warning not yet used.
pub fn candidate(digest: &LogDigest, level: u8) -> Option<TemplateRef<'_>> {
    let ranked = digest.ranked();
    let mut current = *ranked.first()?;
    let chronological = digest.chronological();
    let mut used = vec![current];
    for _ in 1..level {
        let at = chronological
            .iter()
            .position(|t| std::ptr::eq(t.template, current.template))?;
        let earlier = chronological[..at]
            .iter()
            .rev()
            .find(|t| !used.iter().any(|u| std::ptr::eq(u.template, t.template)))?;
        current = *earlier;
        used.push(current);
    }
    Some(current)
}

/// A candidate as an answer sentence.
pub fn candidate_answer(item: &TemplateRef<'_>) -> String {
    let t = item.template;
    let line = shorten(strip_leading_time(&t.example), 200);
    let when = t
        .first_time
        .as_deref()
        .map(|time| format!(", first at {time}"))
        .unwrap_or_default();
    let times = if t.count == 1 {
        "once".to_owned()
    } else {
        format!("{} times", t.count)
    };
    format!(
        "The logs show \"{line}\" ({times}{when}; {}).",
        item.citation()
    )
}

fn strip_leading_time(line: &str) -> &str {
    super::digest::split_timestamp(line).1
}

enum Intent<'a> {
    Open,
    Accept,
    RootCause(Option<&'a str>),
    Answer(&'a str),
}

fn intent(message: Option<&str>) -> Intent<'_> {
    let Some(message) = message.map(str::trim).filter(|m| !m.is_empty()) else {
        return Intent::Open;
    };
    let lower = message.to_lowercase();
    let words: String = lower
        .chars()
        .filter(|c| c.is_alphanumeric() || c.is_whitespace() || *c == '\'')
        .collect();
    let words = words.trim();
    if matches!(
        words,
        "yes"
            | "y"
            | "yep"
            | "yeah"
            | "ok"
            | "okay"
            | "correct"
            | "confirm"
            | "confirmed"
            | "agree"
            | "agreed"
            | "accept"
            | "right"
            | "sure"
            | "looks right"
            | "that's right"
            | "yes that's it"
            | "go on"
            | "next"
    ) {
        return Intent::Accept;
    }
    for prefix in [
        "root cause:",
        "root cause -",
        "root cause is",
        "the root cause is",
    ] {
        if let Some(rest) = lower.strip_prefix(prefix) {
            let start = message.len() - rest.len();
            let text = message[start..].trim();
            return Intent::RootCause((!text.is_empty()).then_some(text));
        }
    }
    if matches!(
        words,
        "root cause" | "that's the root cause" | "this is the root cause" | "done" | "stop"
    ) {
        return Intent::RootCause(None);
    }
    Intent::Answer(message)
}

fn block(out: &mut String, value: &serde_json::Value) {
    let _ = write!(out, "\n\n```{BLOCK_TAG}\n{value}\n```\n");
}

/// A block that records nothing, so the reply is never read as prose.
fn no_step(out: &mut String, triage: &Triage) {
    block(
        out,
        &serde_json::json!({"why": triage.level(), "question": triage.question(), "answer": null, "evidence": [], "next_question": null, "root_cause": null}),
    );
}

fn offer(out: &mut String, digest: &LogDigest, level: u8) {
    match candidate(digest, level) {
        Some(item) => {
            let _ = write!(
                out,
                "Candidate from the logs: {}\n\nReply **yes** to take it, or answer in your own \
                 words.",
                candidate_answer(&item)
            );
        }
        None if digest.is_empty() => out.push_str(
            "No redacted log is attached, so I have no evidence to offer: answer in your own \
             words, or upload logs and apply their review.",
        ),
        None => out.push_str(
            "The logs show nothing earlier that would explain this. Answer from what you know \
             (a change, a deploy, capacity, a dependency), or reply **root cause** to take the \
             last answer as the root cause.",
        ),
    }
}

/// The analyst's reply to the engineer's newest message.
pub fn analyst_reply(input: &AnalystInput<'_>) -> String {
    let triage = input.triage;
    let digest = input.digest;
    let mut out = String::new();
    if let Some(root) = triage.root_cause() {
        let _ = write!(
            out,
            "The root cause is identified: **{root}**\n\nRedo a why-step to revisit it, or go on \
             to write the RCA."
        );
        no_step(&mut out, triage);
        return out;
    }
    let level = triage.level();
    match intent(input.user_message) {
        Intent::Open => {
            if triage.steps().is_empty() {
                let _ = write!(
                    out,
                    "I'm the {ANALYST_NAME}: I work offline and deterministically, without an AI \
                     model, from the redacted logs attached to this issue. Nothing leaves this \
                     machine.\n\n"
                );
                summary(&mut out, digest);
            }
            let _ = write!(out, "**Why {level}:** {}\n\n", triage.question());
            offer(&mut out, digest, level);
            block(
                &mut out,
                &serde_json::json!({"why": level, "question": triage.question(), "answer": null, "evidence": [], "next_question": null, "root_cause": null}),
            );
        }
        Intent::RootCause(text) => {
            let last = triage.steps().last().map(|s| s.answer.as_str());
            match text.or(last) {
                Some(root) if !triage.steps().is_empty() => {
                    let _ = write!(
                        out,
                        "Noted. Root cause: **{root}**\n\nThe 5 Whys are complete; the RCA can \
                         now be written from them."
                    );
                    block(
                        &mut out,
                        &serde_json::json!({"why": level, "answer": null, "evidence": [], "next_question": null, "root_cause": root}),
                    );
                }
                _ => {
                    let _ = write!(
                        out,
                        "Answer at least the first why before naming a root cause.\n\n**Why \
                         {level}:** {}",
                        triage.question()
                    );
                    no_step(&mut out, triage);
                }
            }
        }
        Intent::Accept | Intent::Answer(_) => {
            let offered = candidate(digest, level);
            let (answer, evidence) = match intent(input.user_message) {
                Intent::Answer(text) => (shorten(text, 1_000), citations(text)),
                _ => match &offered {
                    Some(item) => (candidate_answer(item), vec![item.citation()]),
                    None => {
                        let _ = write!(
                            out,
                            "I have no candidate from the logs for this why, so there is nothing \
                             to accept. Answer in your own words.\n\n**Why {level}:** {}",
                            triage.question()
                        );
                        no_step(&mut out, triage);
                        return out;
                    }
                },
            };
            let _ = write!(out, "Recorded **why {level}**: {answer}\n\n");
            if level >= WHY_LEVELS {
                let _ = write!(
                    out,
                    "That was the fifth why, so this answer is taken as the root cause. Redo a \
                     step if the chain does not hold."
                );
                block(
                    &mut out,
                    &serde_json::json!({"why": level, "question": triage.question(), "answer": answer, "evidence": evidence, "next_question": null, "root_cause": answer}),
                );
            } else {
                let next = follow_up_question(&answer);
                let _ = write!(out, "**Why {}:** {next}\n\n", level + 1);
                offer(&mut out, digest, level + 1);
                block(
                    &mut out,
                    &serde_json::json!({"why": level, "question": triage.question(), "answer": answer, "evidence": evidence, "next_question": next, "root_cause": null}),
                );
            }
        }
    }
    out
}

fn summary(out: &mut String, digest: &LogDigest) {
    if digest.is_empty() {
        out.push_str("No redacted log is attached to this issue yet.\n\n");
        return;
    }
    let lines: u64 = digest.files.iter().map(|f| f.lines).sum();
    let _ = writeln!(
        out,
        "**What the logs show** ({} file{}, {lines} lines), errors and warnings first:\n",
        digest.files.len(),
        if digest.files.len() == 1 { "" } else { "s" },
    );
    let ranked = digest.ranked();
    if ranked.is_empty() {
        out.push_str("- No error or warning lines.\n");
    }
    for item in ranked.iter().take(5) {
        let t = item.template;
        let _ = writeln!(
            out,
            "- {} ×{}: `{}` (lines {}–{}{}; {})",
            t.severity.label(),
            t.count,
            shorten(&t.signature, 120).replace('`', "'"),
            t.first_line,
            t.last_line,
            t.first_time
                .as_deref()
                .map(|f| format!(", first {f}"))
                .unwrap_or_default(),
            item.citation(),
        );
    }
    if ranked.len() > 5 {
        let _ = writeln!(
            out,
            "- … and {} more error and warning templates.",
            ranked.len() - 5
        );
    }
    out.push('\n');
}

/// `file:line` citations in free text.
fn citations(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '(' | ')'))
        .filter(|w| {
            w.rsplit_once(':').is_some_and(|(file, line)| {
                file.contains('.') && !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit())
            })
        })
        .map(str::to_owned)
        .take(20)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triage::digest::DigestBuilder;
    use crate::triage::reply::parse_reply;

    fn digest() -> LogDigest {
        let mut b = DigestBuilder::new("app.log");
        b.push_text(concat!(
            "2026-11-23T08:00:00Z INFO start\n",
            "2026-11-23T08:00:01Z WARN disk 91% full on /var\n",
            "2026-11-23T08:00:02Z ERROR write failed: no space left on device\n",
            "2026-11-23T08:00:03Z ERROR request 17 failed: 500\n",
            "2026-11-23T08:00:04Z ERROR request 18 failed: 500\n",
        ));
        LogDigest {
            files: vec![b.finish()],
        }
    }

    fn step(triage: &mut Triage, digest: &LogDigest, message: Option<&str>) -> String {
        let reply = analyst_reply(&AnalystInput {
            title: "Checkout 500s",
            digest,
            triage,
            user_message: message,
        });
        triage.apply_reply(&parse_reply(&reply));
        reply
    }

    #[test]
    fn candidates_walk_back_in_time() {
        let d = digest();
        let c1 = candidate(&d, 1).expect("c1");
        assert_eq!(c1.template.first_line, 4);
        assert_eq!(candidate(&d, 2).expect("c2").template.first_line, 3);
        assert_eq!(candidate(&d, 3).expect("c3").template.first_line, 2);
        assert!(candidate(&d, 4).is_none());
        assert!(candidate(&LogDigest::default(), 1).is_none());
    }

    #[test]
    fn a_full_triage_by_accepting_and_answering() {
        let d = digest();
        let mut t = Triage::new("Checkout 500s");
        let open = step(&mut t, &d, None);
        assert!(open.contains("Built-in analyst"));
        assert!(open.contains("app.log:4"));
        assert!(t.steps().is_empty());

        step(&mut t, &d, Some("yes"));
        assert_eq!(t.steps().len(), 1);
        assert_eq!(t.steps()[0].evidence, vec!["app.log:4"]);
        assert!(t.steps()[0].answer.contains("request 17 failed"));

        let reply = step(&mut t, &d, Some("Yes."));
        assert!(t.steps()[1].answer.contains("no space left"));
        assert!(reply.contains("disk 91% full"), "{reply}");

        step(&mut t, &d, Some("ok"));
        let reply = step(&mut t, &d, Some("yes"));
        assert!(reply.contains("nothing to accept"));
        assert_eq!(t.steps().len(), 3);

        step(
            &mut t,
            &d,
            Some("Log rotation was disabled in the last deploy, see app.log:1"),
        );
        assert_eq!(t.steps()[3].evidence, vec!["app.log:1"]);
        step(&mut t, &d, Some("root cause"));
        assert_eq!(t.root_cause(), Some(t.steps()[3].answer.as_str()));
    }

    #[test]
    fn the_fifth_answer_is_the_root_cause_and_replies_are_deterministic() {
        let d = digest();
        let mut a = Triage::new("x");
        let mut b = Triage::new("x");
        for n in 0..5 {
            let ra = step(&mut a, &d, Some(&format!("answer {n}")));
            let rb = step(&mut b, &d, Some(&format!("answer {n}")));
            assert_eq!(ra, rb);
        }
        assert_eq!(a.root_cause(), Some("answer 4"));
    }

    #[test]
    fn without_logs_it_says_so() {
        let d = LogDigest::default();
        let mut t = Triage::new("x");
        let open = step(&mut t, &d, None);
        assert!(open.contains("No redacted log"));
        let root = step(&mut t, &d, Some("root cause: expired cert"));
        assert!(root.contains("Answer at least the first why"));
        step(&mut t, &d, Some("TLS handshakes failed"));
        step(&mut t, &d, Some("Root cause: the cert expired unnoticed"));
        assert_eq!(t.root_cause(), Some("the cert expired unnoticed"));
    }
}
