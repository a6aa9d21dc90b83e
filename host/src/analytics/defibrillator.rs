//! The channel defibrillator's rules (spec: channel defibrillator). Pure: a channel's diagnostic
//! history and last forward in, a judgement out.
//!
//! A stagnant candidate gets a diagnostic rebalance and a zero-fee probe; after two attempts in
//! 14 days a channel that still does not route is a zombie. Nothing else may call it one.

use serde::Serialize;

/// Diagnostic attempts counted for the zombie rule and the pruner rule.
pub const DIAGNOSTIC_WINDOW_SECS: u64 = 14 * 86_400;
/// Attempts a channel needs in the window before it may be judged; also the most it gets.
pub const DIAGNOSTIC_ATTEMPTS: u32 = 2;
/// How long after an attempt the channel stays on its zero-fee probe, and has to route.
pub const PROBE_SECS: u64 = 48 * 3600;
/// The size of a diagnostic rebalance.
pub const DIAGNOSTIC_AMOUNT_SAT: u64 = 50_000;

/// A channel's diagnostic rebalances within `DIAGNOSTIC_WINDOW_SECS`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DiagnosticHistory {
    pub attempts: u32,
    pub successes: u32,
    pub last_attempt_at: Option<u64>,
    pub last_success_at: Option<u64>,
    /// Whether the latest attempt was the one that succeeded.
    pub last_succeeded: bool,
}

/// Why a channel is a zombie, or `None` while it is not (yet) one.
///
/// Spec: ≥ 2 diagnostic attempts in the last 14 days, and either none succeeded, or the last
/// succeeded and the channel has not routed within 48 h after it.
pub fn zombie_reason(
    history: &DiagnosticHistory,
    last_forward_at: Option<u64>,
    now: u64,
) -> Option<String> {
    if history.attempts < DIAGNOSTIC_ATTEMPTS {
        return None;
    }
    if history.successes == 0 {
        return Some(format!(
            "zombie: {} diagnostic rebalances in 14 days, none got through",
            history.attempts
        ));
    }
    let success = history.last_success_at?;
    let routed_after = last_forward_at.is_some_and(|at| at >= success);
    let waited = now.saturating_sub(success) >= PROBE_SECS;
    (history.last_succeeded && waited && !routed_after).then(|| {
        format!(
            "zombie: {} diagnostic rebalances in 14 days; no forward in the 48 h after the last one succeeded",
            history.attempts
        )
    })
}

/// An open zero-fee probe.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Probe {
    pub started_at: u64,
    pub until: u64,
}

/// Why an open probe ends now, or `None` while it goes on: the channel routed, or time is up.
pub fn probe_end(probe: &Probe, last_forward_at: Option<u64>, now: u64) -> Option<&'static str> {
    if last_forward_at.is_some_and(|at| at >= probe.started_at) {
        Some("routed")
    } else if now >= probe.until {
        Some("expired")
    } else {
        None
    }
}

/// Why a diagnostic attempt is not allowed now, or `None` if it is.
pub fn diagnostic_refusal(
    history: &DiagnosticHistory,
    probe_active: bool,
    stagnant: bool,
) -> Option<String> {
    if !stagnant {
        return Some("diagnostic: the destination is not a stagnant candidate".into());
    }
    if probe_active {
        return Some("diagnostic: the destination's probe is still running".into());
    }
    if history.attempts >= DIAGNOSTIC_ATTEMPTS {
        return Some(format!(
            "diagnostic: {} attempts in 14 days already (at most {DIAGNOSTIC_ATTEMPTS})",
            history.attempts
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: u64 = 3600;
    const NOW: u64 = 100 * 86_400;

    fn history(attempts: u32, successes: u32, last_success_at: Option<u64>) -> DiagnosticHistory {
        DiagnosticHistory {
            attempts,
            successes,
            last_attempt_at: last_success_at,
            last_success_at,
            last_succeeded: last_success_at.is_some(),
        }
    }

    #[test]
    fn one_attempt_never_makes_a_zombie() {
        assert_eq!(zombie_reason(&history(1, 0, None), None, NOW), None);
        assert_eq!(zombie_reason(&history(0, 0, None), None, NOW), None);
    }

    #[test]
    fn two_failed_attempts_make_a_zombie() {
        let reason = zombie_reason(&history(2, 0, None), None, NOW).unwrap();
        assert!(reason.contains("none got through"), "{reason}");
    }

    #[test]
    fn a_successful_last_attempt_gets_48_hours_to_route() {
        let success = NOW - 47 * HOUR;
        assert_eq!(
            zombie_reason(&history(2, 1, Some(success)), None, NOW),
            None
        );
        let success = NOW - 49 * HOUR;
        assert!(zombie_reason(&history(2, 1, Some(success)), None, NOW).is_some());
        // It routed after the refill: alive.
        assert_eq!(
            zombie_reason(&history(2, 1, Some(success)), Some(success + HOUR), NOW),
            None
        );
        // A forward before the refill does not count.
        assert!(zombie_reason(&history(2, 1, Some(success)), Some(success - HOUR), NOW).is_some());
    }

    #[test]
    fn a_success_followed_by_a_failure_is_not_judged_on_the_success() {
        let mut h = history(2, 1, Some(NOW - 100 * HOUR));
        h.last_succeeded = false;
        assert_eq!(zombie_reason(&h, None, NOW), None);
    }

    #[test]
    fn a_probe_ends_when_the_channel_routes_or_after_its_time() {
        let probe = Probe {
            started_at: NOW - HOUR,
            until: NOW - HOUR + PROBE_SECS,
        };
        assert_eq!(probe_end(&probe, None, NOW), None);
        assert_eq!(probe_end(&probe, Some(NOW - 2 * HOUR), NOW), None);
        assert_eq!(probe_end(&probe, Some(NOW - HOUR / 2), NOW), Some("routed"));
        assert_eq!(probe_end(&probe, None, probe.until), Some("expired"));
    }

    #[test]
    fn diagnostics_only_for_stagnant_channels_one_at_a_time_at_most_twice() {
        let none = history(0, 0, None);
        assert!(diagnostic_refusal(&none, false, true).is_none());
        assert!(diagnostic_refusal(&none, false, false).is_some());
        assert!(diagnostic_refusal(&none, true, true).is_some());
        let reason = diagnostic_refusal(&history(2, 0, None), false, true).unwrap();
        assert!(reason.contains("2 attempts"), "{reason}");
    }
}
