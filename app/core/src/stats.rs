//! The figures on the dashboard.

use serde::{Deserialize, Serialize};

use crate::Severity;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DashboardStats {
    /// Open issues per severity, in [`Severity::ALL`] order.
    pub open_by_severity: Vec<(Severity, u64)>,
    pub investigating: u64,
    /// Resolved or closed within the last seven days.
    pub resolved_this_week: u64,
    /// Mean of `resolved_at - created_at` over every resolved or closed issue.
    pub mean_time_to_resolve_secs: Option<f64>,
    pub total: u64,
}

impl DashboardStats {
    pub fn open_total(&self) -> u64 {
        self.open_by_severity.iter().map(|(_, n)| n).sum()
    }

    pub fn open_with(&self, severity: Severity) -> u64 {
        self.open_by_severity
            .iter()
            .find(|(s, _)| *s == severity)
            .map_or(0, |(_, n)| *n)
    }
}

/// A duration as a person reads it: `45s`, `12m`, `3h 20m`, `2d 4h`.
pub fn human_duration(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return "—".to_owned();
    }
    // Rounded to whole seconds; durations beyond u64 are not meaningful here.
    let s = secs.round() as u64;
    match s {
        0..=59 => format!("{s}s"),
        60..=3_599 => format!("{}m", s / 60),
        3_600..=86_399 => format!("{}h {}m", s / 3_600, (s % 3_600) / 60),
        _ => format!("{}d {}h", s / 86_400, (s % 86_400) / 3_600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(42.4), "42s");
        assert_eq!(human_duration(720.0), "12m");
        assert_eq!(human_duration(3.0 * 3600.0 + 20.0 * 60.0), "3h 20m");
        assert_eq!(
            human_duration(2.0 * 86_400.0 + 4.0 * 3600.0 + 59.0),
            "2d 4h"
        );
        assert_eq!(human_duration(-1.0), "—");
        assert_eq!(human_duration(f64::NAN), "—");
    }

    #[test]
    fn open_counts_sum() {
        let s = DashboardStats {
            open_by_severity: vec![(Severity::Critical, 2), (Severity::Low, 3)],
            ..Default::default()
        };
        assert_eq!(s.open_total(), 5);
        assert_eq!(s.open_with(Severity::Low), 3);
        assert_eq!(s.open_with(Severity::High), 0);
    }
}
