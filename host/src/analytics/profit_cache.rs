//! The latest profitability analysis, kept between cycles so that policies see each channel's
//! class and return without the ledgers being scanned every cycle. Refreshed every
//! `ANALYSIS_EVERY_SECS`; each refresh is one "analysis" in the momentum guard's sense.

use super::profitability::ChannelProfitability;
use crate::{
    model::{Profit, ProfitabilityClass},
    scid::ShortChannelId,
};
use std::collections::HashMap;

/// Classes rest on 7- and 30-day windows: a daily look is fresh enough, and keeps the ledger
/// scans (a few hundred ms on 1,000 busy channels) out of most cycles.
pub const ANALYSIS_EVERY_SECS: u64 = 24 * 3600;

#[derive(Debug, Default)]
pub struct ProfitCache {
    analysed_at: Option<u64>,
    by_channel: HashMap<ShortChannelId, (ProfitabilityClass, Profit)>,
}

impl ProfitCache {
    pub fn is_due(&self, now_secs: u64) -> bool {
        self.analysed_at
            .is_none_or(|at| now_secs.saturating_sub(at) >= ANALYSIS_EVERY_SECS)
    }

    /// Asks for a fresh analysis at the next look (a probe ended, a diagnostic was made: the
    /// classes they feed must not wait a day).
    pub fn invalidate(&mut self) {
        self.analysed_at = None;
    }

    /// Keeps `report`: return = the 30-day annualised net, marginal = the 7-day one.
    pub fn replace(&mut self, now_secs: u64, report: &[ChannelProfitability]) {
        self.analysed_at = Some(now_secs);
        self.by_channel = report
            .iter()
            .map(|c| {
                let profit = Profit {
                    roi_bp: clamp_i32(c.windows[2].roi_annual_bp),
                    marginal_roi_bp: clamp_i32(c.windows[1].roi_annual_bp),
                };
                (c.channel, (c.class, profit))
            })
            .collect();
    }

    /// The channel's class and return; `Unknown` and none before its first analysis.
    pub fn get(&self, channel: ShortChannelId) -> (ProfitabilityClass, Option<Profit>) {
        self.by_channel
            .get(&channel)
            .map_or((ProfitabilityClass::Unknown, None), |(class, profit)| {
                (*class, Some(*profit))
            })
    }
}

fn clamp_i32(value: i64) -> i32 {
    i32::try_from(value).unwrap_or(if value < 0 { i32::MIN } else { i32::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::profitability::WindowFigures;

    fn report(class: ProfitabilityClass, week_bp: i64, month_bp: i64) -> ChannelProfitability {
        let window = |days, roi_annual_bp| WindowFigures {
            days,
            roi_annual_bp,
            ..WindowFigures::default()
        };
        ChannelProfitability {
            channel: ShortChannelId::from_u64(7),
            peer_id: "02bb".into(),
            capacity_msat: 1,
            local_msat: 0,
            age_days: Some(100),
            last_forward_at: None,
            class,
            class_reason: String::new(),
            diagnostic_attempts_14d: 0,
            probe_until: None,
            open_cost_msat: None,
            open_cost_payback_days: None,
            windows: vec![window(1, 0), window(7, week_bp), window(30, month_bp)],
        }
    }

    #[test]
    fn refreshes_on_schedule_and_reports_month_and_week() {
        let mut cache = ProfitCache::default();
        let id = ShortChannelId::from_u64(7);
        assert!(cache.is_due(0));
        assert_eq!(cache.get(id), (ProfitabilityClass::Unknown, None));
        cache.replace(
            1000,
            &[report(ProfitabilityClass::Underwater, 700, -9_000_000_000)],
        );
        assert!(!cache.is_due(1000 + ANALYSIS_EVERY_SECS - 1));
        assert!(cache.is_due(1000 + ANALYSIS_EVERY_SECS));
        let (class, profit) = cache.get(id);
        assert_eq!(class, ProfitabilityClass::Underwater);
        assert_eq!(
            profit,
            Some(Profit {
                roi_bp: i32::MIN,
                marginal_roi_bp: 700
            })
        );
    }
}
