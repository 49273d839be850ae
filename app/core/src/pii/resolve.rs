//! Turning the detectors' raw, overlapping candidates into the final
//! findings: sorted, non-overlapping, deterministic.
//!
//! Detectors run independently, so one value is often claimed twice (a JWT
//! after `Bearer`, an IPv4 inside `::ffff:10.1.2.3`, a password that is also
//! a generic `*_SECRET=` value). Each candidate carries a *rank* saying how
//! specific its evidence is; on overlap the higher rank wins, then the
//! longer span. Candidates of the same type that overlap are first merged
//! into their union, since two rules agreeing on a type should never leave
//! part of the value uncovered.

use super::kind::{CustomPatternId, PiiSpan, PiiType};

/// How specific a rule's evidence is; higher wins overlaps.
pub(crate) mod rank {
    /// A PEM block is unmistakable and must be removed whole.
    pub const PRIVATE_KEY: u8 = 100;
    /// Structure-validated (decoded header).
    pub const JWT: u8 = 90;
    /// A vendor's documented key format.
    pub const VENDOR_KEY: u8 = 80;
    /// Operator-defined patterns express deliberate local knowledge.
    pub const CUSTOM: u8 = 75;
    pub const BEARER: u8 = 70;
    pub const URL_TOKEN: u8 = 68;
    pub const PASSWORD: u8 = 65;
    pub const CREDIT_CARD: u8 = 60;
    pub const SSN: u8 = 58;
    /// A value assigned to a secret-sounding key, format unknown.
    pub const GENERIC_SECRET: u8 = 50;
    pub const EMAIL: u8 = 45;
    pub const IPV6: u8 = 42;
    pub const MAC: u8 = 41;
    pub const IPV4: u8 = 40;
    pub const PHONE: u8 = 35;
    pub const USERNAME: u8 = 30;
    pub const HOSTNAME: u8 = 25;
}

/// A detector's claim before overlaps are resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Candidate {
    pub kind: PiiType,
    pub start: usize,
    pub end: usize,
    pub rank: u8,
    pub custom: Option<CustomPatternId>,
}

impl Candidate {
    pub(crate) const fn new(kind: PiiType, start: usize, end: usize, rank: u8) -> Self {
        Self {
            kind,
            start,
            end,
            rank,
            custom: None,
        }
    }

    const fn len(&self) -> usize {
        self.end - self.start
    }
}

/// Resolves overlaps; the result is sorted by start and non-overlapping.
pub(crate) fn resolve(text: &str, mut candidates: Vec<Candidate>) -> Vec<PiiSpan> {
    candidates.retain(|c| {
        c.start < c.end
            && c.end <= text.len()
            && text.is_char_boundary(c.start)
            && text.is_char_boundary(c.end)
    });
    // A total order, so that the outcome never depends on detector order.
    // (A tuple compares field by field only as far as needed.) Each
    // detector reports mostly in order, and the stable sort merges such
    // runs instead of partitioning them.
    candidates.sort_by_key(|c| {
        (
            c.start,
            std::cmp::Reverse(c.end),
            c.kind,
            std::cmp::Reverse(c.rank),
            c.custom,
        )
    });

    // Most candidates overlap nothing; only clusters of overlapping ones
    // need the ranking below.
    let mut spans = Vec::with_capacity(candidates.len());
    let mut index = 0;
    while index < candidates.len() {
        let mut cluster_end = candidates[index].end;
        let mut next = index + 1;
        while next < candidates.len() && candidates[next].start < cluster_end {
            cluster_end = cluster_end.max(candidates[next].end);
            next += 1;
        }
        if next == index + 1 {
            spans.push(to_span(candidates[index]));
        } else {
            resolve_cluster(&candidates[index..next], &mut spans);
        }
        index = next;
    }
    spans
}

fn to_span(c: Candidate) -> PiiSpan {
    PiiSpan {
        kind: c.kind,
        start: c.start,
        end: c.end,
        custom: c.custom,
    }
}

/// Settles one group of transitively overlapping candidates (sorted by
/// start): same-type claims merge, then the most specific evidence wins.
fn resolve_cluster(cluster: &[Candidate], spans: &mut Vec<PiiSpan>) {
    let mut by_priority = merge_same_kind(cluster.to_vec());
    by_priority.sort_by(|a, b| {
        b.rank
            .cmp(&a.rank)
            .then(b.len().cmp(&a.len()))
            .then(a.start.cmp(&b.start))
            .then(a.kind.cmp(&b.kind))
    });
    let mut accepted: Vec<Candidate> = Vec::new();
    for candidate in by_priority {
        if !accepted
            .iter()
            .any(|a| a.start < candidate.end && candidate.start < a.end)
        {
            accepted.push(candidate);
        }
    }
    accepted.sort_by_key(|c| c.start);
    spans.extend(accepted.into_iter().map(to_span));
}

fn merge_same_kind(mut candidates: Vec<Candidate>) -> Vec<Candidate> {
    candidates.sort_by(|a, b| {
        a.kind
            .cmp(&b.kind)
            .then(a.start.cmp(&b.start))
            .then(b.end.cmp(&a.end))
            .then(b.rank.cmp(&a.rank))
    });
    let mut merged: Vec<Candidate> = Vec::with_capacity(candidates.len());
    for candidate in candidates {
        match merged.last_mut() {
            Some(last) if last.kind == candidate.kind && candidate.start < last.end => {
                last.end = last.end.max(candidate.end);
                if candidate.rank > last.rank {
                    last.rank = candidate.rank;
                    last.custom = candidate.custom;
                }
            }
            _ => merged.push(candidate),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(kind: PiiType, start: usize, end: usize, rank: u8) -> Candidate {
        Candidate::new(kind, start, end, rank)
    }

    #[test]
    fn higher_rank_wins_then_longer() {
        let text = "x".repeat(100);
        let spans = resolve(
            &text,
            vec![
                cand(PiiType::BearerToken, 10, 50, rank::BEARER),
                cand(PiiType::Jwt, 10, 50, rank::JWT),
                cand(PiiType::Ipv4, 60, 70, rank::IPV4),
                cand(PiiType::Ipv6, 55, 70, rank::IPV6),
                cand(PiiType::Hostname, 80, 90, rank::HOSTNAME),
                cand(PiiType::Hostname, 85, 95, rank::HOSTNAME),
            ],
        );
        assert_eq!(
            spans,
            vec![
                PiiSpan::new(PiiType::Jwt, 10, 50),
                PiiSpan::new(PiiType::Ipv6, 55, 70),
                PiiSpan::new(PiiType::Hostname, 80, 95),
            ]
        );
    }

    #[test]
    fn drops_spans_off_char_boundaries() {
        let spans = resolve("é", vec![cand(PiiType::Email, 0, 1, rank::EMAIL)]);
        assert!(spans.is_empty());
    }
}
