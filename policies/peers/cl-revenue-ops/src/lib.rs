//! `cl-revenue-ops`: the fee controller of the cl-revenue-ops plugin (v2.x: Thompson sampling
//! + AIMD), as a revops fee policy.
//!
//! Every `fee_interval` (30 minutes) per channel: the fee that was in force and the revenue it
//! earned since the last cycle (sat/hour) become a Thompson observation ([`thompson`]), and the
//! cycle counts as an AIMD success when the channel forwarded anything ([`aimd`]). Then a fee
//! is drawn from the posterior inside `min_fee_ppm..=max_fee_ppm` (10 and 5,000), with the
//! spread scaled by the stigmergic exploration factor, and the AIMD modifier applied.
//!
//! Written from, as facts (no code copied): lightning-goats/cl_revenue_ops
//! `modules/fee_controller.py` (`GaussianThompsonState`: prior 200 ± 100 ppm, 7-day half-life,
//! at least 3 observations and 10 ppm of spread, observation and revenue weights, prior blend;
//! `AIMDDefenseState`: 3 failures → ×0.85 at most hourly down to 0.5, 10 successes → +0.02 up
//! to 1.5; the pheromone and corridor-role exploration factors), `cl-revenue-ops.py` (the
//! v2.0/v2.1 changelog), `modules/config.py` (fee interval 1800 s, fees 10–5,000 ppm, base
//! fee 0) and the tests of `tests/test_thompson_aimd.py`.
//!
//! Approximated:
//! - the fleet-informed prior (cl-hive) becomes the competitors' median fee when the host knows
//!   it (`prior-from-competitors`), else `prior-mean-ppm`;
//! - the pheromone level (successful-forward trail) is the channel's forwards out in a day; the
//!   corridor role is always primary;
//! - at most `max-observations` (32; the plugin keeps 200) fit in the host's 4 KiB of channel
//!   state;
//! - left out: contextual posteriors by balance and time of day, the v2.1 Kalman flow
//!   estimate, deadband sleep, scarcity pricing and the hive's threat multipliers; a channel on
//!   a host probe is left alone.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

mod aimd;
mod thompson;

use aimd::{Aimd, AimdSettings};
use alloc::{format, string::String, vec::Vec};
use guest_support::{
    rng::Rng,
    schema::{BoolParam, FloatParam, IntParam, Schema},
    state::{self, Reader, Restore, Versioned, Writer},
    types::{Channel, ChannelState, FeeProposal, Param, PricingMode},
};
use thompson::Posterior;

wit_bindgen::generate!({
    world: "fee-policy",
    path: "../../../wit",
    with: {
        "revops:policy/types@0.1.0": guest_support::types,
        "revops:policy/logging@0.1.0": guest_support::logging,
    },
});

guest_support::panic_handler!();

const FEE_INTERVAL_MINUTES: IntParam = IntParam::new(
    "fee-interval-minutes",
    "Minutes between two decisions on a channel (fee_interval).",
    30,
)
.range(1, 1_440);
const MIN_FEE_PPM: IntParam =
    IntParam::new("min-fee-ppm", "Floor fee, ppm (min_fee_ppm).", 10).range(0, 100_000);
const MAX_FEE_PPM: IntParam =
    IntParam::new("max-fee-ppm", "Ceiling fee, ppm (max_fee_ppm).", 5_000).range(1, 100_000);
const BASE_FEE_MSAT: IntParam =
    IntParam::new("base-fee-msat", "Base fee, msat (base_fee_msat).", 0).range(0, 100_000);
const PRIOR_MEAN_PPM: IntParam =
    IntParam::new("prior-mean-ppm", "Prior mean fee, ppm.", 200).range(1, 100_000);
const PRIOR_STD_PPM: IntParam = IntParam::new(
    "prior-std-ppm",
    "Prior spread, ppm (thompson_prior_std_fee).",
    100,
)
.range(10, 500);
const PRIOR_FROM_COMPETITORS: BoolParam = BoolParam::new(
    "prior-from-competitors",
    "Start a channel's prior at its competitors' median fee when known.",
    true,
);
const MAX_OBSERVATIONS: IntParam =
    IntParam::new("max-observations", "Observations kept per channel.", 32).range(3, 100);
const DECAY_HOURS: FloatParam =
    FloatParam::new("decay-hours", "Half-life of an observation, hours.", 168.0)
        .range(1.0, 2_160.0);
const AIMD_DECREASE: FloatParam = FloatParam::new(
    "aimd-decrease",
    "Factor after a failure streak (aimd_multiplicative_decrease).",
    0.85,
)
.range(0.5, 1.0);
const SCHEMA: Schema = Schema::new(&[
    &FEE_INTERVAL_MINUTES,
    &MIN_FEE_PPM,
    &MAX_FEE_PPM,
    &BASE_FEE_MSAT,
    &PRIOR_MEAN_PPM,
    &PRIOR_STD_PPM,
    &PRIOR_FROM_COMPETITORS,
    &MAX_OBSERVATIONS,
    &DECAY_HOURS,
    &AIMD_DECREASE,
]);

struct Settings {
    interval_secs: u64,
    min_ppm: u32,
    max_ppm: u32,
    base_msat: u32,
    prior_mean: f64,
    prior_std: f64,
    prior_from_competitors: bool,
    keep: usize,
    decay_hours: f64,
    aimd: AimdSettings,
}

impl Settings {
    fn read(params: &[Param]) -> Self {
        Self {
            interval_secs: FEE_INTERVAL_MINUTES.get_u64(params) * 60,
            min_ppm: MIN_FEE_PPM.get_u32(params),
            max_ppm: MAX_FEE_PPM.get_u32(params),
            base_msat: BASE_FEE_MSAT.get_u32(params),
            prior_mean: PRIOR_MEAN_PPM.get(params) as f64,
            prior_std: PRIOR_STD_PPM.get(params) as f64,
            prior_from_competitors: PRIOR_FROM_COMPETITORS.get(params),
            keep: MAX_OBSERVATIONS.get_usize(params),
            decay_hours: DECAY_HOURS.get(params),
            aimd: AimdSettings {
                decrease: AIMD_DECREASE.get(params),
                ..AimdSettings::DEFAULT
            },
        }
    }
}

/// One channel's controller.
#[derive(Clone, Debug, PartialEq)]
struct Controller {
    posterior: Posterior,
    aimd: Aimd,
    last_cycle_secs: u64,
    /// The running totals at the last cycle: the next cycle's earnings and forwards.
    last_fees_total: u64,
    last_forwards_total: u64,
}

/// `None` until a channel's first cycle; `Default` is what `Restore` falls back to.
#[derive(Clone, Debug, Default, PartialEq)]
struct Memory(Option<Controller>);

impl Versioned for Memory {
    const VERSION: u8 = 1;

    fn write(&self, w: &mut Writer) {
        w.bool(self.0.is_some());
        if let Some(c) = &self.0 {
            c.posterior.write(w);
            c.aimd.write(w);
            w.u64(c.last_cycle_secs)
                .u64(c.last_fees_total)
                .u64(c.last_forwards_total);
        }
    }

    fn read(_version: u8, r: &mut Reader<'_>) -> Option<Self> {
        if !r.bool()? {
            return Some(Self(None));
        }
        Some(Self(Some(Controller {
            posterior: Posterior::read(r)?,
            aimd: Aimd::read(r)?,
            last_cycle_secs: r.u64()?,
            last_fees_total: r.u64()?,
            last_forwards_total: r.u64()?,
        })))
    }
}

/// Books the cycle that just ended: the fee in force and what it earned, and whether the
/// channel forwarded. Totals that went down (a host restart) count as nothing.
fn observe(c: &mut Controller, channel: &Channel, now: u64, s: &Settings) {
    let flow = &channel.flow;
    let hours = now.saturating_sub(c.last_cycle_secs) as f64 / 3_600.0;
    let earned_msat = flow
        .fees_earned_msat_total
        .saturating_sub(c.last_fees_total);
    let forwarded = flow.forwards_out_total > c.last_forwards_total;
    // No learning at a zero fee (a probe's, or a restart's), as the plugin guards.
    if channel.fee_ppm > 0 && hours > 0.0 {
        let rate = earned_msat as f64 / 1_000.0 / hours;
        c.posterior
            .observe(channel.fee_ppm, rate, hours, now, s.keep, s.decay_hours);
    }
    c.aimd.record(forwarded, now, &s.aimd);
}

/// The next fee: a Thompson draw, then the AIMD defence.
fn next_fee(c: &Controller, pheromone: f64, s: &Settings, rng: &mut Rng) -> (u32, u32) {
    let explore = thompson::exploration(pheromone);
    let sampled = c.posterior.sample(explore, s.min_ppm, s.max_ppm, rng);
    (sampled, c.aimd.apply(sampled, s.min_ppm, s.max_ppm))
}

struct RevenueOps;

impl Guest for RevenueOps {
    fn describe() -> PolicyInfo {
        PolicyInfo {
            name: "cl-revenue-ops".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "cl-revenue-ops v2: Gaussian Thompson sampling over the fee with an AIMD defence on failure streaks.".into(),
            params: SCHEMA.specs(),
        }
    }

    fn propose_fees(ctx: Context, snapshot: Snapshot) -> Result<FeeDecision, String> {
        let s = Settings::read(&ctx.params);
        let now = ctx.now_secs;
        let mut restore = Restore::new("channel state");
        let mut proposals = Vec::new();
        let mut channel_states = Vec::new();
        for channel in &snapshot.channels {
            let blob = state::channel_blob(&snapshot.channel_states, channel.id);
            let Memory(memory) = restore.load(blob);
            let flow = &channel.flow;
            let mut controller = match memory {
                Some(c) if now.saturating_sub(c.last_cycle_secs) < s.interval_secs => continue,
                Some(mut c) => {
                    observe(&mut c, channel, now, &s);
                    c
                }
                None => {
                    let competitors = snapshot
                        .peers
                        .get(channel.peer as usize)
                        .and_then(|p| p.competitors)
                        .filter(|_| s.prior_from_competitors);
                    let prior =
                        competitors.map_or(s.prior_mean, |c| f64::from(c.median_ppm.max(1)));
                    Controller {
                        posterior: Posterior::new(prior, s.prior_std),
                        aimd: Aimd::default(),
                        last_cycle_secs: now,
                        last_fees_total: 0,
                        last_forwards_total: 0,
                    }
                }
            };
            controller.last_cycle_secs = now;
            controller.last_fees_total = flow.fees_earned_msat_total;
            controller.last_forwards_total = flow.forwards_out_total;
            let mut rng = Rng::for_key(ctx.seed, channel.id);
            let (sampled, fee_ppm) =
                next_fee(&controller, f64::from(flow.forwards_out_1d), &s, &mut rng);
            let p = &controller.posterior;
            let reason = format!(
                "cl-revenue-ops: thompson {sampled} (posterior {:.0}±{:.0}, {} obs) x aimd {:.2}",
                p.mean,
                p.std,
                p.observations.len(),
                if controller.aimd.active {
                    controller.aimd.modifier
                } else {
                    1.0
                }
            );
            channel_states.push(ChannelState {
                id: channel.id,
                state: state::save(&Memory(Some(controller))),
            });
            if channel.probe_active
                || (fee_ppm == channel.fee_ppm && s.base_msat == channel.fee_base_msat)
            {
                continue;
            }
            proposals.push(FeeProposal {
                channel: channel.id,
                fee_ppm,
                fee_base_msat: s.base_msat,
                mode: PricingMode::Normal,
                reason,
            });
        }
        restore.finish();
        Ok(FeeDecision {
            proposals,
            node_state: Vec::new(),
            channel_states,
        })
    }
}

export!(RevenueOps);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_is_consistent() {
        assert_eq!(SCHEMA.check(), Ok(()));
        let s = Settings::read(&[]);
        assert_eq!(
            (s.interval_secs, s.min_ppm, s.max_ppm, s.base_msat),
            (1_800, 10, 5_000, 0)
        );
        assert_eq!((s.prior_mean, s.prior_std, s.keep), (200.0, 100.0, 32));
        assert_eq!(s.aimd.decrease, 0.85);
    }

    #[test]
    fn the_largest_state_fits_the_hosts_channel_state_limit() {
        let mut posterior = Posterior::new(200.0, 100.0);
        for i in 0..100 {
            posterior.observe(100 + i, 50.0, 0.5, 1_000, 100, 168.0);
        }
        let memory = Memory(Some(Controller {
            posterior,
            aimd: Aimd::default(),
            last_cycle_secs: 1,
            last_fees_total: 2,
            last_forwards_total: 3,
        }));
        let blob = state::save(&memory);
        assert!(blob.len() <= 4 << 10, "{} bytes", blob.len());
        assert_eq!(state::decode::<Memory>(&blob), Ok(memory));
    }

    #[test]
    fn a_quiet_channel_is_defended_and_a_busy_one_learns() {
        let s = Settings::read(&[]);
        let mut c = Controller {
            posterior: Posterior::new(200.0, 100.0),
            aimd: Aimd::default(),
            last_cycle_secs: 0,
            last_fees_total: 0,
            last_forwards_total: 0,
        };
        let mut rng = Rng::new(5);
        // Three cycles without a forward: the defence cuts the drawn fee by 15 %.
        let mut now = 0;
        for _ in 0..3 {
            now += 7_200;
            c.aimd.record(false, now, &s.aimd);
        }
        let (sampled, fee) = next_fee(&c, 0.0, &s, &mut rng);
        assert_eq!(fee, ((f64::from(sampled) * 0.85) as u32).max(10));
        // Earning at 400 ppm pulls the posterior up: ten observations weigh as much as the prior.
        for _ in 0..10 {
            now += 7_200;
            c.posterior
                .observe(400, 300.0, 2.0, now, s.keep, s.decay_hours);
        }
        assert!(
            (c.posterior.mean - 300.0).abs() < 1e-9,
            "{}",
            c.posterior.mean
        );
    }
}
