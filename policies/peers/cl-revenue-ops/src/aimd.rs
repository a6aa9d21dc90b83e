//! cl-revenue-ops' AIMD defence layer over the sampled fee, pure.
//!
//! Each fee cycle is a success (the channel forwarded since the last one) or a failure. A
//! streak of failures multiplies a modifier by 0.85 (at most once an hour, never below 0.5) and
//! switches the defence on; a streak of successes adds 0.02 (never above 1.5), and the defence
//! switches off once the modifier is back at 1 or more. While on, the modifier scales Thompson
//! sampling's fee: quick to back off when traffic stops, slow to creep back.

use guest_support::state::{Reader, Writer};

pub struct AimdSettings {
    pub failure_threshold: u32,
    pub success_threshold: u32,
    pub decrease: f64,
    pub increase: f64,
    pub min_decrease_interval_secs: u64,
}

impl AimdSettings {
    /// cl-revenue-ops' constants.
    pub const DEFAULT: Self = Self {
        failure_threshold: 3,
        success_threshold: 10,
        decrease: 0.85,
        increase: 0.02,
        min_decrease_interval_secs: 3_600,
    };
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Aimd {
    pub failures: u32,
    pub successes: u32,
    pub modifier: f64,
    pub active: bool,
    pub last_decrease_secs: u64,
}

impl Default for Aimd {
    fn default() -> Self {
        Self {
            failures: 0,
            successes: 0,
            modifier: 1.0,
            active: false,
            last_decrease_secs: 0,
        }
    }
}

impl Aimd {
    pub fn record(&mut self, success: bool, now: u64, s: &AimdSettings) {
        if success {
            self.successes += 1;
            self.failures = 0;
            if self.successes >= s.success_threshold {
                self.modifier = (self.modifier + s.increase).min(1.5);
                self.successes = 0;
                if self.modifier >= 1.0 {
                    self.active = false;
                }
            }
        } else {
            self.failures += 1;
            self.successes = 0;
            // The streak keeps counting through the cooldown and fires after it.
            if self.failures >= s.failure_threshold
                && now.saturating_sub(self.last_decrease_secs) >= s.min_decrease_interval_secs
            {
                self.modifier = (self.modifier * s.decrease).max(0.5);
                self.last_decrease_secs = now;
                self.failures = 0;
                self.active = true;
            }
        }
    }

    /// The fee after the defence: unchanged while off, else scaled, truncated and clamped.
    pub fn apply(&self, fee_ppm: u32, floor: u32, ceiling: u32) -> u32 {
        if !self.active {
            return fee_ppm;
        }
        let scaled = (f64::from(fee_ppm) * self.modifier) as u32;
        scaled.clamp(floor, ceiling.max(floor))
    }

    pub fn write(&self, w: &mut Writer) {
        w.u32(self.failures)
            .u32(self.successes)
            .f64(self.modifier)
            .bool(self.active)
            .u64(self.last_decrease_secs);
    }

    pub fn read(r: &mut Reader<'_>) -> Option<Self> {
        Some(Self {
            failures: r.u32()?,
            successes: r.u32()?,
            modifier: r.f64()?,
            active: r.bool()?,
            last_decrease_secs: r.u64()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: AimdSettings = AimdSettings::DEFAULT;
    const HOUR: u64 = 3_600;

    #[test]
    fn three_failures_cut_the_fee_by_15_percent() {
        let mut a = Aimd::default();
        a.record(false, HOUR, &S);
        a.record(false, HOUR, &S);
        assert!(!a.active);
        a.record(false, HOUR, &S);
        assert!(a.active);
        assert!((a.modifier - 0.85).abs() < 1e-12);
        assert_eq!(a.apply(1_000, 10, 5_000), 850);
        assert_eq!(a.apply(10, 10, 5_000), 10, "floor");
    }

    #[test]
    fn decreases_wait_an_hour_and_stop_at_half() {
        let mut a = Aimd::default();
        for _ in 0..3 {
            a.record(false, HOUR, &S);
        }
        for _ in 0..3 {
            a.record(false, HOUR + 60, &S);
        }
        assert!((a.modifier - 0.85).abs() < 1e-12, "cooldown");
        a.record(false, 2 * HOUR, &S);
        assert!(
            (a.modifier - 0.85 * 0.85).abs() < 1e-12,
            "the streak fires after it"
        );
        for hour in 3..40 {
            for _ in 0..3 {
                a.record(false, hour * HOUR, &S);
            }
        }
        assert!((a.modifier - 0.5).abs() < 1e-12);
    }

    #[test]
    fn ten_successes_add_two_points_and_recovery_switches_off() {
        let mut a = Aimd {
            modifier: 0.98,
            active: true,
            ..Aimd::default()
        };
        for _ in 0..9 {
            a.record(true, HOUR, &S);
        }
        assert!(a.active);
        a.record(true, HOUR, &S);
        assert!((a.modifier - 1.0).abs() < 1e-12);
        assert!(!a.active, "back at 1: Thompson alone");
        assert_eq!(a.apply(777, 10, 5_000), 777);
        a.record(false, HOUR, &S);
        assert_eq!(
            (a.failures, a.successes),
            (1, 0),
            "a failure breaks the streak"
        );
    }
}
