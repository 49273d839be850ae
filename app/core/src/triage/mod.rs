//! # Triage: the 5 Whys
//!
//! The pure side of a root-cause conversation:
//!
//! * [`digest`] — large redacted logs reduced to templates with counts and
//!   first occurrences, rendered to fit a model's context;
//! * [`prompt`] — the eight IT domain system prompts, the reply format and
//!   the request's messages within budget;
//! * [`reply`] — reading a model's reply (structured block, labelled lines,
//!   or prose);
//! * [`state`] — the state machine that records why-steps and the root
//!   cause and returns effects for the server to persist;
//! * [`analyst`] — the built-in offline analyst.

pub mod analyst;
pub mod digest;
pub mod prompt;
pub mod reply;
pub mod state;

pub use analyst::{ANALYST_NAME, AnalystInput, analyst_reply};
pub use digest::{DigestBuilder, FileDigest, LineSeverity, LogDigest, Template};
pub use prompt::{BuiltPrompt, PromptInput, build_prompt, domain_prompt, estimate_tokens};
pub use reply::{ParsedReply, ReplyFormat, parse_reply};
pub use state::{Effect, Triage, TriageError, WHY_LEVELS, WhyStep};
