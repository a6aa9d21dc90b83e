//! The capacity planner: per channel `keep`, `defibrillate`, `close`, `splice-out` or `grow`,
//! with the reason. Recommendations only — revops never closes a channel itself.
//!
//! Pruner rule (spec: defibrillator): never `close` or `splice-out` a channel with fewer than 2
//! diagnostic attempts in the last 14 days; recommend `defibrillate` instead.

use super::profitability::ChannelProfitability;
use crate::model::ProfitabilityClass;
use serde::Serialize;

/// Diagnostic attempts a channel needs in 14 days before it may be called a lost cause.
pub use super::defibrillator::DIAGNOSTIC_ATTEMPTS as MIN_DIAGNOSTIC_ATTEMPTS;
/// A profitable channel whose outgoing volume over 30 days reached this share of its capacity
/// is turning its liquidity over fast enough to deserve more.
const GROW_TURNOVER_PCT: u64 = 100;
/// A channel moving less than this share of its capacity in 30 days holds idle capital.
const IDLE_TURNOVER_PCT: u64 = 5;

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Recommendation {
    Keep,
    Defibrillate,
    Close,
    SpliceOut,
    Grow,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CapacityAdvice {
    pub recommendation: Recommendation,
    pub reason: String,
}

/// `diagnostic_attempts`: the channel's diagnostic rebalances in the last 14 days.
pub fn advise(channel: &ChannelProfitability, diagnostic_attempts: u32) -> CapacityAdvice {
    let month = &channel.windows[2];
    let proven = diagnostic_attempts >= MIN_DIAGNOSTIC_ATTEMPTS;
    let advice = |recommendation, reason: String| CapacityAdvice {
        recommendation,
        reason,
    };
    let not_yet = || {
        format!(
            "{diagnostic_attempts} of {MIN_DIAGNOSTIC_ATTEMPTS} diagnostic attempts in 14 days: \
             try a diagnostic rebalance and a zero-fee probe before judging"
        )
    };
    match channel.class {
        ProfitabilityClass::Zombie => advice(
            Recommendation::Close,
            "zombie: diagnostic attempts did not make it route".to_owned(),
        ),
        ProfitabilityClass::StagnantCandidate
        | ProfitabilityClass::Underwater
        | ProfitabilityClass::Bleeder
            if !proven =>
        {
            advice(
                Recommendation::Defibrillate,
                format!("{}; {}", channel.class_reason, not_yet()),
            )
        }
        ProfitabilityClass::Bleeder | ProfitabilityClass::Underwater => advice(
            Recommendation::Close,
            format!(
                "{} after {diagnostic_attempts} diagnostic attempts",
                channel.class_reason
            ),
        ),
        ProfitabilityClass::StagnantCandidate => advice(
            Recommendation::SpliceOut,
            format!(
                "{} after {diagnostic_attempts} diagnostic attempts: free the idle capital",
                channel.class_reason
            ),
        ),
        ProfitabilityClass::Profitable if month.turnover_pct >= GROW_TURNOVER_PCT => advice(
            Recommendation::Grow,
            format!(
                "profitable and moved {} % of its capacity out in 30 days",
                month.turnover_pct
            ),
        ),
        ProfitabilityClass::BreakEven if month.turnover_pct < IDLE_TURNOVER_PCT && proven => {
            advice(
                Recommendation::SpliceOut,
                format!(
                    "earns little and moved only {} % of its capacity in 30 days",
                    month.turnover_pct
                ),
            )
        }
        _ => advice(Recommendation::Keep, channel.class_reason.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{analytics::profitability::WindowFigures, scid::ShortChannelId};

    fn channel(class: ProfitabilityClass, turnover_pct: u64) -> ChannelProfitability {
        ChannelProfitability {
            channel: ShortChannelId::from_u64(1),
            peer_id: "02aa".into(),
            capacity_msat: 1_000_000_000,
            local_msat: 500_000_000,
            age_days: Some(120),
            last_forward_at: None,
            class,
            class_reason: "because".into(),
            diagnostic_attempts_14d: 0,
            probe_until: None,
            open_cost_msat: None,
            open_cost_payback_days: None,
            windows: vec![
                WindowFigures::default(),
                WindowFigures::default(),
                WindowFigures {
                    days: 30,
                    turnover_pct,
                    ..WindowFigures::default()
                },
            ],
        }
    }

    #[test]
    fn the_pruner_rule_defibrillates_before_it_closes() {
        for class in [
            ProfitabilityClass::Bleeder,
            ProfitabilityClass::Underwater,
            ProfitabilityClass::StagnantCandidate,
        ] {
            for attempts in 0..MIN_DIAGNOSTIC_ATTEMPTS {
                let advice = advise(&channel(class, 0), attempts);
                assert_eq!(advice.recommendation, Recommendation::Defibrillate);
                assert!(advice.reason.contains("diagnostic"), "{}", advice.reason);
            }
        }
        assert_eq!(
            advise(&channel(ProfitabilityClass::Bleeder, 0), 2).recommendation,
            Recommendation::Close
        );
        assert_eq!(
            advise(&channel(ProfitabilityClass::StagnantCandidate, 0), 3).recommendation,
            Recommendation::SpliceOut
        );
        assert_eq!(
            advise(&channel(ProfitabilityClass::BreakEven, 1), 0).recommendation,
            Recommendation::Keep,
            "no splice-out without attempts either"
        );
    }

    #[test]
    fn busy_profitable_channels_grow_and_the_rest_are_kept() {
        assert_eq!(
            advise(&channel(ProfitabilityClass::Profitable, 150), 0).recommendation,
            Recommendation::Grow
        );
        assert_eq!(
            advise(&channel(ProfitabilityClass::Profitable, 40), 0).recommendation,
            Recommendation::Keep
        );
        assert_eq!(
            advise(&channel(ProfitabilityClass::Unknown, 0), 0).recommendation,
            Recommendation::Keep
        );
    }
}
