//! Senders remember: pathfinding penalises a channel that failed a payment, so for a while
//! after a local failure (no liquidity, no slot, fee too low) — or after the channel could not
//! be used at all (its peer offline) — fewer senders pick it. The penalty compounds with
//! every failure and halves every `half-life-hours`.
//!
//! Applied to the sender's own acceptance draw (`accept < share × (1 − penalty)`), so it uses
//! no randomness of its own and the streams stay aligned.

use super::{network::SimNetwork, scenario::SenderMemory as Config};

pub(super) struct SenderMemory {
    /// Penalty per failure and half-life (ms); `None`: senders forget at once.
    config: Option<(f64, f64)>,
    /// Per channel: the penalty as of `at_ms`.
    state: Vec<(f64, u64)>,
}

impl SenderMemory {
    pub fn new(config: Option<&Config>, channels: usize) -> Self {
        Self {
            config: config.map(|c| (c.failure_penalty, c.half_life_hours * 3_600_000.0)),
            state: vec![(0.0, 0); channels],
        }
    }

    /// The share of senders still willing to try `channel` at `now_ms` (1: no memory).
    pub fn willingness(&self, channel: usize, now_ms: u64) -> f64 {
        match self.config {
            None => 1.0,
            Some((_, half_life_ms)) => 1.0 - self.penalty(channel, now_ms, half_life_ms),
        }
    }

    fn penalty(&self, channel: usize, now_ms: u64, half_life_ms: f64) -> f64 {
        let (penalty, at_ms) = self.state[channel];
        if penalty <= 0.0 {
            return 0.0;
        }
        penalty * 0.5f64.powf(now_ms.saturating_sub(at_ms) as f64 / half_life_ms)
    }

    /// `channel` failed a sender (or could not be used) at `now_ms`.
    pub fn record_failure(&mut self, channel: usize, now_ms: u64) {
        let Some((per_failure, half_life_ms)) = self.config else {
            return;
        };
        let now = self.penalty(channel, now_ms, half_life_ms);
        self.state[channel] = (1.0 - (1.0 - now) * (1.0 - per_failure), now_ms);
    }
}

impl SimNetwork {
    /// Channel `index` could not be used by senders at all just now (e.g. its peer was
    /// offline): pathfinding remembers it as it remembers a failure.
    pub(super) fn note_unusable(&mut self, index: usize) {
        self.memory.record_failure(index, self.now_ms);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_compound_and_fade() {
        let config = Config {
            failure_penalty: 0.5,
            half_life_hours: 1.0,
        };
        let mut memory = SenderMemory::new(Some(&config), 2);
        assert_eq!(memory.willingness(0, 0), 1.0);
        memory.record_failure(0, 0);
        memory.record_failure(0, 0);
        assert!((memory.willingness(0, 0) - 0.25).abs() < 1e-12);
        // An hour later the penalty (0.75) has halved.
        assert!((memory.willingness(0, 3_600_000) - 0.625).abs() < 1e-12);
        assert!(memory.willingness(0, 48 * 3_600_000) > 0.999_999);
        assert_eq!(memory.willingness(1, 0), 1.0, "per channel");
        let mut forgetful = SenderMemory::new(None, 1);
        forgetful.record_failure(0, 0);
        assert_eq!(forgetful.willingness(0, 0), 1.0);
    }
}
