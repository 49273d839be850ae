//! What the model is told: a system prompt per IT domain, the reply format
//! the engine reads, the current 5-Whys state, the issue and the log
//! evidence — cut to fit the model's context.

use crate::ai::{ChatMessage, Role};
use crate::{Domain, Severity};

use super::digest::LogDigest;
use super::state::{Triage, WHY_LEVELS};

/// The system prompt for a domain: the expertise and the first places to
/// look. Data, not code: one paragraph each.
pub const fn domain_prompt(domain: Domain) -> &'static str {
    match domain {
        Domain::Linux => {
            "You are a senior Linux site reliability engineer. You know systemd units and the \
             journal, the kernel log (OOM killer, hung tasks, I/O errors), filesystems and disk \
             space, inodes, permissions and SELinux/AppArmor denials, cron and timers, package \
             upgrades, sshd and PAM, resource limits (ulimit, cgroups) and time sync. Look first \
             at what changed (deploys, upgrades, config edits, reboots) and at resource exhaustion."
        }
        Domain::Windows => {
            "You are a senior Windows Server engineer. You know the Event Log (System, \
             Application, Security; event ids such as 4625, 4740, 7031, 1000, 41), services and \
             their recovery actions, Active Directory, Kerberos and NTLM, Group Policy, IIS, \
             Windows Update and reboots, certificates, DNS and DHCP on Windows, and \
             performance counters. Look first at what changed and at account lockouts, \
             service crashes and expired certificates."
        }
        Domain::Network => {
            "You are a senior network engineer. You know routing (BGP, OSPF), switching and \
             VLANs, spanning tree, MTU and fragmentation, DNS, DHCP, NAT, firewalls and ACLs, \
             load balancers and health checks, TLS handshakes and certificates, VPNs, packet \
             loss, latency and interface errors. Look first at config changes, flapping links \
             or sessions, and asymmetric paths."
        }
        Domain::K8s => {
            "You are a senior Kubernetes platform engineer. You know pods, deployments and \
             rollouts, CrashLoopBackOff and OOMKilled, probes, resource requests and limits, \
             scheduling and node pressure, evictions, PVCs and storage classes, Services, \
             Ingress and DNS (CoreDNS), network policies, RBAC, image pulls, HPA and the \
             control plane (etcd, API server). Look first at recent rollouts, limits and \
             node conditions."
        }
        Domain::Db => {
            "You are a senior database reliability engineer (PostgreSQL, MySQL, SQL Server, \
             Redis, MongoDB). You know connection pools and max_connections, locks and \
             deadlocks, long transactions, replication lag and failover, vacuum and bloat, \
             slow queries and missing indexes, disk and WAL growth, backups, and schema \
             migrations. Look first at migrations and deploys, connection counts, locks and \
             replication."
        }
        Domain::Virt => {
            "You are a senior virtualisation engineer (VMware vSphere, Hyper-V, KVM/libvirt, \
             Proxmox). You know hosts and clusters, HA and DRS, vMotion and live migration, \
             datastores and storage latency, snapshots, resource contention (CPU ready, \
             ballooning, swapping), virtual networking and guest tools. Look first at host \
             failures, storage paths and snapshot growth."
        }
        Domain::Hw => {
            "You are a senior hardware and data-centre engineer. You know server health \
             (IPMI/iDRAC/iLO, SEL), disks and RAID controllers, SMART, ECC memory errors, \
             CPU and thermal events, power supplies and UPS, firmware and BIOS updates, and \
             cabling and NICs. Look first at the hardware event log, predictive failures and \
             firmware changes."
        }
        Domain::Obs => {
            "You are a senior observability engineer. You know metrics, logs and traces \
             (Prometheus, Grafana, Loki, Elasticsearch, OpenTelemetry), alert rules and their \
             thresholds, scrape and ingestion failures, cardinality explosions, retention and \
             storage, sampling and dropped spans, and alert fatigue. Look first at whether \
             the signal itself broke (a missing scrape, a changed label) before the system it \
             watches."
        }
    }
}

/// How the engine wants replies: prose for the engineer, then one fenced
/// JSON block it reads.
pub const FORMAT_INSTRUCTIONS: &str = "\
You are helping an engineer find the root cause of an incident with the 5 Whys. Work on the \
open why-question only. Reason from the evidence; cite log lines as file:line exactly as the \
evidence gives them. Values such as [IPV4_1] or [EMAIL_2] are redaction placeholders: the same \
placeholder is the same value; never guess what they hide. If the evidence does not answer the \
question, say what is missing and ask the engineer for it (and leave answer null).\n\
\n\
Reply in two parts. First, a short explanation for the engineer (a few sentences, Markdown \
allowed). Then, last, exactly one fenced block tagged triage holding a JSON object:\n\
```triage\n\
{\"why\": <the level you answer, 1-5>, \"question\": \"<the open why-question>\", \
\"answer\": \"<one-sentence answer, or null>\", \"evidence\": [\"<file:line>\", ...], \
\"next_question\": \"<the next why-question, or null>\", \
\"root_cause\": \"<the root cause once it is reached, else null>\"}\n\
```\n\
Name a root cause only when the chain of whys reaches something the team can fix (a process, \
a configuration, a design decision), or after the fifth why.";

/// A rough token count for budgeting: four bytes a token, rounded up.
pub fn estimate_tokens(text: &str) -> u32 {
    u32::try_from(text.len().div_ceil(4)).unwrap_or(u32::MAX)
}

/// The inputs of one request.
#[derive(Clone, Copy, Debug)]
pub struct PromptInput<'a> {
    pub domain: Domain,
    pub severity: Severity,
    pub title: &'a str,
    pub description: &'a str,
    pub digest: &'a LogDigest,
    pub triage: &'a Triage,
    /// Earlier user and assistant messages, oldest first; the newest user
    /// message last.
    pub history: &'a [ChatMessage],
    /// The model's context size in tokens.
    pub context_tokens: u32,
}

/// A request's messages and what was left out to fit.
#[derive(Clone, Debug, PartialEq)]
pub struct BuiltPrompt {
    pub messages: Vec<ChatMessage>,
    pub estimated_tokens: u32,
    /// Bytes of log evidence included.
    pub evidence_bytes: usize,
    /// Older history messages left out.
    pub dropped_messages: usize,
    /// Tokens kept free for the reply.
    pub reply_tokens: u32,
}

/// The state section of the system prompt.
pub fn state_section(triage: &Triage) -> String {
    let mut out = String::from("5 Whys so far:\n");
    if triage.steps().is_empty() {
        out.push_str("(none answered yet)\n");
    }
    for step in triage.steps() {
        out.push_str(&format!(
            "Why {}: {}\nAnswer: {}\n",
            step.order, step.question, step.answer
        ));
        if !step.evidence.is_empty() {
            out.push_str(&format!("Evidence: {}\n", step.evidence.join(", ")));
        }
    }
    match triage.root_cause() {
        Some(root) => out.push_str(&format!("Root cause identified: {root}\n")),
        None => out.push_str(&format!(
            "Open question (why {} of {WHY_LEVELS}): {}\n",
            triage.level(),
            triage.question()
        )),
    }
    out
}

/// Builds the messages: the system prompt (domain, format, state), the
/// issue with its evidence, then as much recent history as fits. The reply
/// keeps a quarter of the context (at most 4,096 tokens); the evidence gets
/// up to half of what remains; history fills the rest, newest first.
pub fn build_prompt(input: &PromptInput<'_>) -> BuiltPrompt {
    let context = input.context_tokens.max(1_024);
    let reply_tokens = (context / 4).min(4_096);
    let mut available = context.saturating_sub(reply_tokens);

    let system = format!(
        "{}\n\n{}\n\n{}",
        domain_prompt(input.domain),
        FORMAT_INSTRUCTIONS,
        state_section(input.triage)
    );
    available = available.saturating_sub(estimate_tokens(&system));

    let issue_head = format!(
        "Incident ({} severity, {}): {}\n{}\n\nLog evidence (redacted, summarised as templates):\n",
        input.severity.label(),
        input.domain.label(),
        input.title,
        input.description.trim(),
    );
    available = available.saturating_sub(estimate_tokens(&issue_head));
    let evidence_budget = usize::try_from(available / 2)
        .unwrap_or(0)
        .saturating_mul(4);
    let evidence = input.digest.render(evidence_budget);
    available = available.saturating_sub(estimate_tokens(&evidence));
    let context_message = format!("{issue_head}{evidence}");

    let mut kept: Vec<ChatMessage> = Vec::new();
    let mut dropped = 0usize;
    for message in input.history.iter().rev() {
        let cost = estimate_tokens(&message.content) + 4;
        if cost <= available {
            available -= cost;
            kept.push(message.clone());
        } else {
            dropped += 1;
            // Keep going only to count; an older message must not come back
            // after a newer one was dropped.
            available = 0;
        }
    }
    kept.reverse();
    // Tool results must follow the assistant message that asked for them.
    while kept.first().is_some_and(|m| m.role == Role::Tool) {
        kept.remove(0);
        dropped += 1;
    }

    let mut messages = Vec::with_capacity(kept.len() + 2);
    messages.push(ChatMessage::system(system));
    messages.push(ChatMessage::user(context_message));
    // Providers want user and assistant turns to alternate; the context
    // message is a user turn, so an opening user message is merged into it.
    let mut rest = kept.into_iter().peekable();
    if let Some(first) = rest.next_if(|m| m.role == Role::User)
        && let Some(context) = messages.last_mut()
    {
        context.content.push_str("\n\nEngineer: ");
        context.content.push_str(&first.content);
    }
    messages.extend(rest);
    let estimated_tokens = messages
        .iter()
        .map(|m| estimate_tokens(&m.content) + 4)
        .sum();
    BuiltPrompt {
        messages,
        estimated_tokens,
        evidence_bytes: evidence.len(),
        dropped_messages: dropped,
        reply_tokens,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triage::digest::DigestBuilder;

    fn digest(lines: usize) -> LogDigest {
        let mut b = DigestBuilder::new("app.log");
        for i in 0..lines {
            b.push_line(&format!(
                "2026-11-23T08:00:00Z ERROR job{} failed kind-{}",
                i % 7,
                (b'a' + (i % 26) as u8) as char
            ));
        }
        LogDigest {
            files: vec![b.finish()],
        }
    }

    #[test]
    fn every_domain_has_its_own_prompt() {
        let prompts: std::collections::HashSet<&str> =
            Domain::ALL.iter().map(|d| domain_prompt(*d)).collect();
        assert_eq!(prompts.len(), Domain::ALL.len());
    }

    #[test]
    fn the_prompt_fits_the_context_and_keeps_the_newest_history() {
        let triage = Triage::new("Checkout down");
        let digest = digest(5_000);
        let history: Vec<ChatMessage> = (0..200)
            .map(|i| {
                if i % 2 == 0 {
                    ChatMessage::user(format!("user message {i} {}", "x".repeat(2_000)))
                } else {
                    ChatMessage::assistant(format!("assistant message {i} {}", "y".repeat(2_000)))
                }
            })
            .collect();
        for context in [2_048u32, 8_192, 32_000] {
            let built = build_prompt(&PromptInput {
                domain: Domain::Db,
                severity: Severity::High,
                title: "Checkout down",
                description: "500s since 08:00",
                digest: &digest,
                triage: &triage,
                history: &history,
                context_tokens: context,
            });
            assert!(
                built.estimated_tokens + built.reply_tokens <= context + 16,
                "{context}: {}",
                built.estimated_tokens
            );
            assert!(built.dropped_messages > 0);
            let last = built.messages.last().expect("messages");
            assert!(last.content.starts_with("assistant message 199"));
            assert_eq!(built.messages[0].role, Role::System);
            assert!(built.messages[0].content.contains("database reliability"));
            assert!(
                built.messages[0]
                    .content
                    .contains("Open question (why 1 of 5)")
            );
        }
    }

    #[test]
    fn a_first_user_message_joins_the_context_turn() {
        let triage = Triage::new("x");
        let digest = digest(3);
        let history = vec![ChatMessage::user("It started after the deploy.")];
        let built = build_prompt(&PromptInput {
            domain: Domain::Linux,
            severity: Severity::Low,
            title: "x",
            description: "",
            digest: &digest,
            triage: &triage,
            history: &history,
            context_tokens: 8_192,
        });
        assert_eq!(built.messages.len(), 2);
        assert!(
            built.messages[1]
                .content
                .contains("Engineer: It started after the deploy.")
        );
        assert!(built.messages[1].content.contains("cite as app.log:1"));
    }
}
