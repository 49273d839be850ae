//! The 5-Whys state machine. It holds the why-steps recorded so far and the
//! open question, takes parsed replies and the engineer's edits, and returns
//! what happened as [`Effect`]s, which the server persists and turns into
//! timeline events. It does no IO.

use serde::{Deserialize, Serialize};

use super::reply::{FIELD_MAX, ParsedReply};

/// How many whys the method asks before it names the root cause.
pub const WHY_LEVELS: u8 = 5;

/// One answered why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhyStep {
    /// 1 to [`WHY_LEVELS`].
    pub order: u8,
    pub question: String,
    pub answer: String,
    /// Citations (`file:line`) or quoted lines.
    pub evidence: Vec<String>,
}

/// A conversation's 5-Whys progress.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Triage {
    steps: Vec<WhyStep>,
    /// The question now open (the next why), empty once the root cause is
    /// identified.
    question: String,
    root_cause: Option<String>,
}

/// What changed; the server records each.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    /// A why was answered (or an answer replaced by an edit).
    StepRecorded {
        step: WhyStep,
    },
    /// The next why is open.
    LevelAdvanced {
        level: u8,
        question: String,
    },
    RootCauseIdentified {
        root_cause: String,
    },
    /// Steps from `order` on were dropped, to be answered again.
    StepsCleared {
        from: u8,
    },
}

/// A request the state machine refuses.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TriageError {
    #[error("There is no why-step {0} yet.")]
    NoSuchStep(u8),
    #[error("The answer may not be empty.")]
    EmptyAnswer,
    #[error("At most {FIELD_MAX} characters.")]
    TooLong,
}

/// The opening question for a problem statement.
pub fn first_question(problem: &str) -> String {
    let problem = problem.trim().trim_end_matches(['.', '!', '?']);
    format!("Why did this happen: {problem}?")
}

/// A follow-up why for an answer.
pub fn follow_up_question(answer: &str) -> String {
    let answer = super::digest::shorten(answer.trim().trim_end_matches(['.', '!']), 200);
    format!("Why did that happen: {answer}?")
}

impl Triage {
    /// A fresh triage of `problem` (the title).
    pub fn new(problem: &str) -> Self {
        Self {
            steps: Vec::new(),
            question: first_question(problem),
            root_cause: None,
        }
    }

    /// Rebuilds a triage from what the store holds. Steps are taken in
    /// order and renumbered from 1, so a damaged row cannot leave a gap.
    pub fn restore(mut steps: Vec<WhyStep>, question: String, root_cause: Option<String>) -> Self {
        steps.sort_by_key(|s| s.order);
        steps.truncate(usize::from(WHY_LEVELS));
        for (i, step) in steps.iter_mut().enumerate() {
            step.order = u8::try_from(i + 1).unwrap_or(WHY_LEVELS);
        }
        Self {
            steps,
            question,
            root_cause,
        }
    }

    pub fn steps(&self) -> &[WhyStep] {
        &self.steps
    }

    pub fn question(&self) -> &str {
        &self.question
    }

    pub fn root_cause(&self) -> Option<&str> {
        self.root_cause.as_deref()
    }

    pub fn is_done(&self) -> bool {
        self.root_cause.is_some()
    }

    /// The why being worked on, 1 to 5; 6 once the root cause is known.
    pub fn level(&self) -> u8 {
        if self.is_done() {
            WHY_LEVELS + 1
        } else {
            u8::try_from(self.steps.len() + 1)
                .unwrap_or(WHY_LEVELS)
                .min(WHY_LEVELS)
        }
    }

    /// Applies a parsed assistant reply: an answer records the current
    /// why; a root cause (or the fifth answer) ends the triage; otherwise
    /// the next why opens with the reply's question or a follow-up.
    pub fn apply_reply(&mut self, reply: &ParsedReply) -> Vec<Effect> {
        let mut effects = Vec::new();
        if self.is_done() {
            // A later reply may restate the root cause; keep the first unless
            // the engineer redoes a step.
            return effects;
        }
        let Some(answer) = reply.answer.clone() else {
            if let Some(root_cause) = reply.root_cause.clone().filter(|_| !self.steps.is_empty()) {
                self.root_cause = Some(root_cause.clone());
                self.question.clear();
                effects.push(Effect::RootCauseIdentified { root_cause });
            }
            return effects;
        };
        let step = WhyStep {
            order: self.level(),
            question: self.question.clone(),
            answer: answer.clone(),
            evidence: reply.evidence.clone(),
        };
        self.steps.push(step.clone());
        effects.push(Effect::StepRecorded { step });

        let reached_last = self.steps.len() >= usize::from(WHY_LEVELS);
        if reply.root_cause.is_some() || reached_last {
            let root_cause = reply.root_cause.clone().unwrap_or(answer);
            self.root_cause = Some(root_cause.clone());
            self.question.clear();
            effects.push(Effect::RootCauseIdentified { root_cause });
        } else {
            self.question = reply
                .next_question
                .clone()
                .unwrap_or_else(|| follow_up_question(&answer));
            effects.push(Effect::LevelAdvanced {
                level: self.level(),
                question: self.question.clone(),
            });
        }
        effects
    }

    /// The engineer rewrites a recorded step. Later steps stay.
    pub fn edit_step(
        &mut self,
        order: u8,
        question: &str,
        answer: &str,
    ) -> Result<Vec<Effect>, TriageError> {
        let answer = answer.trim();
        let question = question.trim();
        if answer.is_empty() {
            return Err(TriageError::EmptyAnswer);
        }
        if answer.chars().count() > FIELD_MAX || question.chars().count() > FIELD_MAX {
            return Err(TriageError::TooLong);
        }
        let step = self
            .steps
            .iter_mut()
            .find(|s| s.order == order)
            .ok_or(TriageError::NoSuchStep(order))?;
        if !question.is_empty() {
            step.question = question.to_owned();
        }
        step.answer = answer.to_owned();
        let step = step.clone();
        let mut effects = vec![Effect::StepRecorded { step }];
        if usize::from(order) == self.steps.len() && self.steps.len() == usize::from(WHY_LEVELS) {
            // The last answer is the root cause when the fifth why set it.
            if let Some(root) = &mut self.root_cause {
                *root = answer.to_owned();
                effects.push(Effect::RootCauseIdentified {
                    root_cause: answer.to_owned(),
                });
            }
        }
        Ok(effects)
    }

    /// Drops step `order` and every later one, and reopens its question.
    pub fn redo_from(&mut self, order: u8) -> Result<Vec<Effect>, TriageError> {
        let at = self
            .steps
            .iter()
            .position(|s| s.order == order)
            .ok_or(TriageError::NoSuchStep(order))?;
        self.question = self.steps[at].question.clone();
        self.steps.truncate(at);
        self.root_cause = None;
        Ok(vec![
            Effect::StepsCleared { from: order },
            Effect::LevelAdvanced {
                level: self.level(),
                question: self.question.clone(),
            },
        ])
    }

    /// The engineer names the root cause before the fifth why (or replaces
    /// it). Needs at least one answered why.
    pub fn conclude(&mut self, root_cause: &str) -> Result<Vec<Effect>, TriageError> {
        let root_cause = root_cause.trim();
        if root_cause.is_empty() {
            return Err(TriageError::EmptyAnswer);
        }
        if root_cause.chars().count() > FIELD_MAX {
            return Err(TriageError::TooLong);
        }
        if self.steps.is_empty() {
            return Err(TriageError::NoSuchStep(1));
        }
        self.root_cause = Some(root_cause.to_owned());
        self.question.clear();
        Ok(vec![Effect::RootCauseIdentified {
            root_cause: root_cause.to_owned(),
        }])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(text: &str) -> ParsedReply {
        ParsedReply {
            answer: Some(text.into()),
            ..ParsedReply::default()
        }
    }

    #[test]
    fn five_answers_reach_the_root_cause() {
        let mut t = Triage::new("Checkout returns 500s");
        assert_eq!(t.level(), 1);
        assert_eq!(t.question(), "Why did this happen: Checkout returns 500s?");
        for n in 1..=4u8 {
            let effects = t.apply_reply(&answer(&format!("cause {n}")));
            assert_eq!(effects.len(), 2);
            assert!(matches!(&effects[1], Effect::LevelAdvanced { level, .. } if *level == n + 1));
        }
        assert_eq!(t.question(), "Why did that happen: cause 4?");
        let effects = t.apply_reply(&answer("cause 5"));
        assert_eq!(
            effects[1],
            Effect::RootCauseIdentified {
                root_cause: "cause 5".into()
            }
        );
        assert!(t.is_done());
        assert_eq!(t.level(), 6);
        assert!(t.apply_reply(&answer("more")).is_empty());
        assert_eq!(t.steps().len(), 5);
    }

    #[test]
    fn replies_without_an_answer_record_nothing() {
        let mut t = Triage::new("x");
        assert!(t.apply_reply(&ParsedReply::default()).is_empty());
        // A root cause before any answer is not accepted either.
        let early = ParsedReply {
            root_cause: Some("guess".into()),
            ..ParsedReply::default()
        };
        assert!(t.apply_reply(&early).is_empty());
        assert!(!t.is_done());
    }

    #[test]
    fn the_models_next_question_and_root_cause_are_used() {
        let mut t = Triage::new("x");
        let reply = ParsedReply {
            answer: Some("pool exhausted".into()),
            next_question: Some("Why was the pool exhausted?".into()),
            ..ParsedReply::default()
        };
        t.apply_reply(&reply);
        assert_eq!(t.question(), "Why was the pool exhausted?");
        let reply = ParsedReply {
            answer: Some("a leak in the retry path".into()),
            root_cause: Some("connections leak on retry".into()),
            evidence: vec!["app.log:9".into()],
            ..ParsedReply::default()
        };
        let effects = t.apply_reply(&reply);
        assert_eq!(t.root_cause(), Some("connections leak on retry"));
        assert_eq!(t.steps()[1].question, "Why was the pool exhausted?");
        assert_eq!(t.steps()[1].evidence, vec!["app.log:9"]);
        assert_eq!(effects.len(), 2);
    }

    #[test]
    fn redo_drops_later_steps_and_reopens_the_question() {
        let mut t = Triage::new("x");
        for n in 1..=3 {
            t.apply_reply(&answer(&format!("a{n}")));
        }
        let q2 = t.steps()[1].question.clone();
        t.redo_from(2).expect("step 2 exists");
        assert_eq!(t.steps().len(), 1);
        assert_eq!(t.question(), q2);
        assert_eq!(t.level(), 2);
        assert_eq!(t.redo_from(4), Err(TriageError::NoSuchStep(4)));
    }

    #[test]
    fn edits_are_validated() {
        let mut t = Triage::new("x");
        t.apply_reply(&answer("a1"));
        assert_eq!(t.edit_step(1, "", "  "), Err(TriageError::EmptyAnswer));
        assert_eq!(t.edit_step(2, "", "b"), Err(TriageError::NoSuchStep(2)));
        t.edit_step(1, "Why really?", "b1").expect("edit");
        assert_eq!(t.steps()[0].question, "Why really?");
        assert_eq!(t.steps()[0].answer, "b1");
        let long = "x".repeat(FIELD_MAX + 1);
        assert_eq!(t.edit_step(1, "", &long), Err(TriageError::TooLong));
    }

    #[test]
    fn conclude_needs_an_answered_why() {
        let mut t = Triage::new("x");
        assert!(t.conclude("cert expired").is_err());
        t.apply_reply(&answer("TLS handshakes failed"));
        t.conclude("cert expired").expect("conclude");
        assert_eq!(t.root_cause(), Some("cert expired"));
        assert_eq!(t.question(), "");
    }

    #[test]
    fn restore_renumbers() {
        let step = |order: u8| WhyStep {
            order,
            question: format!("q{order}"),
            answer: format!("a{order}"),
            evidence: vec![],
        };
        let t = Triage::restore(vec![step(4), step(1)], "open".into(), None);
        assert_eq!(t.steps()[1].order, 2);
        assert_eq!(t.steps()[1].answer, "a4");
        assert_eq!(t.level(), 3);
    }
}
