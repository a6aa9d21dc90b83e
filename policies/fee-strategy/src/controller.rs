//! The price search: compass search on revenue, one trial price per epoch.
//!
//! The controller keeps an incumbent — the best price found and its revenue per day — and
//! tries one neighbour at a time, `step` % above or below, for an epoch (at least
//! `epoch_hours`, with enough forwards to judge, up to 3 × `epoch_hours`). A neighbour that
//! earns clearly more (by `TOLERANCE`) becomes the incumbent and the step grows; one that does
//! not sends the search the other way, and when both ways fail the step halves. Under
//! `min_step_pct` the search has converged: the incumbent's price stays put (few broadcasts)
//! while each epoch refreshes its revenue, until revenue collapses or a week has passed, when
//! the search probes again. An epoch that ends with our side nearly empty is not judged (few
//! sales then say nothing about demand): the price rises instead, to ration the scarce inflow.

use crate::{params::Params, state::ChannelState};

const DAY_SECS: f64 = 86_400.0;
const HOUR_SECS: u64 = 3_600;
/// Relative gain of revenue that counts as better rather than noise.
const TOLERANCE: f64 = 0.10;
/// Revenue below this share of the converged level restarts the search.
const COLLAPSE: f64 = 0.6;
/// A converged price is probed again after this long.
const REPROBE_SECS: u64 = 7 * 86_400;
/// Below this local share an epoch is liquidity-limited: the price rises instead of being judged.
const STARVED_SHARE: f64 = 0.15;

/// What the controller sees of a channel this cycle.
pub struct Observation {
    pub now: u64,
    pub fees_total_msat: u64,
    pub forwards_total: u64,
    pub local_share: f64,
    pub chain_ppm: u32,
    /// Where a fresh search starts (see `decide::prior_ppm`).
    pub prior_ppm: u32,
}

/// What happened this cycle.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Step {
    Started,
    Waiting,
    Moved { from: u32, to: u32 },
    Converged,
    Holding,
    Starved,
    Reprobing,
}

pub fn start(state: &mut ChannelState, obs: &Observation, params: &Params) {
    let (floor, ceiling) = bounds(params);
    state.incumbent_ppm = obs.prior_ppm.clamp(floor, ceiling);
    state.price_ppm = state.incumbent_ppm;
    state.incumbent_score = -1.0;
    state.step_pct = f64::from(params.step_pct);
    state.direction = 1;
    state.failures = 0;
    state.converged_score = -1.0;
    state.epochs_converged = 0;
    restart_epoch(state, obs);
}

pub fn restart_epoch(state: &mut ChannelState, obs: &Observation) {
    state.epoch_started_at = obs.now;
    state.epoch_fees_start = obs.fees_total_msat;
    state.epoch_forwards_start = obs.forwards_total;
}

fn bounds(params: &Params) -> (u32, u32) {
    let floor = params.floor_ppm.max(1);
    (floor, params.ceiling_ppm.max(floor))
}

pub fn step(state: &mut ChannelState, obs: &Observation, params: &Params) -> Step {
    if state.price_ppm == 0 {
        start(state, obs, params);
        return Step::Started;
    }
    // Running totals restart lower after a host restart: take a new baseline.
    if obs.fees_total_msat < state.epoch_fees_start
        || obs.forwards_total < state.epoch_forwards_start
    {
        restart_epoch(state, obs);
        return Step::Waiting;
    }
    let elapsed = obs.now.saturating_sub(state.epoch_started_at);
    let forwards = obs.forwards_total - state.epoch_forwards_start;
    let epoch = u64::from(params.epoch_hours.max(1)) * HOUR_SECS;
    let ready = elapsed >= epoch
        && (forwards >= u64::from(params.epoch_min_forwards) || elapsed >= 3 * epoch);
    if !ready {
        return Step::Waiting;
    }
    let score = score(state, obs, elapsed);
    restart_epoch(state, obs);
    if obs.local_share < STARVED_SHARE {
        // Sales are capped by what flows back in, not by the price: sell that scarce inflow
        // dearer. Nothing is learned about demand, so the new price is measured afresh.
        let (floor, ceiling) = bounds(params);
        let raised = libm::round(f64::from(state.incumbent_ppm) * (1.0 + state.step_pct / 100.0));
        state.incumbent_ppm = (raised as u32).clamp(floor, ceiling);
        state.price_ppm = state.incumbent_ppm;
        state.incumbent_score = -1.0;
        state.converged_score = -1.0;
        state.direction = 1;
        state.failures = 0;
        return Step::Starved;
    }
    if state.converged_score >= 0.0 {
        return judge_converged(state, score, params);
    }
    if state.incumbent_score < 0.0 {
        // This epoch measured the incumbent itself.
        state.incumbent_score = score;
        return try_neighbour(state, params);
    }
    judge_trial(state, score);
    if state.step_pct < f64::from(params.min_step_pct) {
        state.price_ppm = state.incumbent_ppm;
        state.converged_score = state.incumbent_score;
        state.epochs_converged = 0;
        return Step::Converged;
    }
    try_neighbour(state, params)
}

/// Revenue per day of the epoch, judged as price × forwards: payment sizes vary tenfold and
/// would drown the price's effect in noise, while how many senders took the price is what the
/// price decides. (`fees_total_msat` is kept in state for reports and future use.)
fn score(state: &ChannelState, obs: &Observation, elapsed: u64) -> f64 {
    let forwards = (obs.forwards_total - state.epoch_forwards_start) as f64;
    f64::from(state.price_ppm) * forwards * DAY_SECS / elapsed as f64
}

/// Judges the trial price against the incumbent.
fn judge_trial(state: &mut ChannelState, score: f64) {
    let incumbent = state.incumbent_score;
    if incumbent == 0.0 && score == 0.0 {
        // Nothing sells at either price: look lower.
        state.incumbent_ppm = state.price_ppm.min(state.incumbent_ppm);
        state.direction = -1;
        state.failures = 0;
    } else if score > incumbent * (1.0 + TOLERANCE) {
        state.incumbent_ppm = state.price_ppm;
        state.incumbent_score = score;
        state.step_pct *= 1.25;
        state.failures = 0;
    } else {
        state.direction = -state.direction;
        state.failures += 1;
        if state.failures >= 2 {
            state.step_pct *= 0.5;
            state.failures = 0;
        }
    }
}

fn judge_converged(state: &mut ChannelState, score: f64, params: &Params) -> Step {
    state.epochs_converged += 1;
    let collapsed = score < state.converged_score * COLLAPSE;
    // Each epoch at the converged price is a fresh measurement of it.
    state.converged_score = 0.5 * (state.converged_score + score);
    let held = u64::from(state.epochs_converged) * u64::from(params.epoch_hours.max(1)) * HOUR_SECS;
    if !collapsed && held < REPROBE_SECS {
        return Step::Holding;
    }
    state.incumbent_score = score;
    state.converged_score = -1.0;
    state.step_pct = f64::from(params.step_pct) / 2.0;
    state.failures = 0;
    // After a collapse look lower first; a routine re-probe alternates.
    state.direction = if collapsed { -1 } else { -state.direction };
    match try_neighbour(state, params) {
        Step::Moved { .. } => Step::Reprobing,
        other => other,
    }
}

/// Sets the next trial price next to the incumbent.
fn try_neighbour(state: &mut ChannelState, params: &Params) -> Step {
    state.step_pct = state.step_pct.min(f64::from(params.step_pct) * 2.0);
    let (floor, ceiling) = bounds(params);
    let from = state.price_ppm;
    let mut to = neighbour(state, floor, ceiling);
    if to == state.incumbent_ppm {
        // Against a bound: the only way is back.
        state.direction = -state.direction;
        to = neighbour(state, floor, ceiling);
    }
    state.price_ppm = to;
    Step::Moved { from, to }
}

fn neighbour(state: &ChannelState, floor: u32, ceiling: u32) -> u32 {
    let base = state.incumbent_ppm;
    let factor = 1.0 + f64::from(state.direction) * state.step_pct / 100.0;
    let wanted =
        libm::round(f64::from(base) * factor).clamp(f64::from(floor), f64::from(ceiling)) as u32;
    if wanted != base {
        return wanted;
    }
    // Make progress even at tiny prices, where rounding swallows the step.
    (i64::from(base) + i64::from(state.direction)).clamp(i64::from(floor), i64::from(ceiling))
        as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 86_400;

    /// Daily epochs and 25 % steps keep the arithmetic of these tests readable.
    fn test_params() -> Params {
        Params {
            step_pct: 25,
            epoch_hours: 24,
            epoch_min_forwards: 8,
            ..Params::default()
        }
    }

    struct Market {
        now: u64,
        fees: u64,
        forwards: u64,
    }

    impl Market {
        /// One day at `price` with a demand curve whose revenue peaks at `best` ppm.
        fn day(&mut self, price: u32, best: f64) -> Observation {
            let p = f64::from(price);
            let sales = 40.0 / (1.0 + (p / (best * 1.2247)).powi(3));
            self.now += DAY;
            self.forwards += sales as u64;
            self.fees += (sales * p * 200.0) as u64;
            Observation {
                now: self.now,
                fees_total_msat: self.fees,
                forwards_total: self.forwards,
                local_share: 0.5,
                chain_ppm: price,
                prior_ppm: price,
            }
        }
    }

    fn search(start_ppm: u32, best: f64, days: usize) -> (ChannelState, usize) {
        let params = test_params();
        let mut state = ChannelState::default();
        let mut market = Market {
            now: 1_000_000,
            fees: 0,
            forwards: 0,
        };
        let first = Observation {
            now: market.now,
            fees_total_msat: 0,
            forwards_total: 0,
            local_share: 0.5,
            chain_ppm: start_ppm,
            prior_ppm: start_ppm,
        };
        assert_eq!(step(&mut state, &first, &params), Step::Started);
        let mut moves = 0;
        for _ in 0..days {
            let observation = market.day(state.price_ppm, best);
            if let Step::Moved { .. } | Step::Reprobing | Step::Converged =
                step(&mut state, &observation, &params)
            {
                moves += 1;
            }
        }
        (state, moves)
    }

    #[test]
    fn climbs_towards_the_revenue_maximum_and_settles() {
        for (start, best) in [(100, 600.0), (2000, 300.0), (50, 50.0)] {
            let (state, moves) = search(start, best, 40);
            let found = f64::from(state.price_ppm);
            assert!(
                found > best * 0.7 && found < best * 1.4,
                "start {start}, best {best}: {found}"
            );
            assert!(moves <= 30, "{moves} moves in 40 days");
        }
    }

    /// One day at the converged price with `share` of the converged number of sales.
    fn converged_day(state: &ChannelState, share: f64) -> Observation {
        let sales = state.converged_score * share / f64::from(state.price_ppm);
        Observation {
            now: state.epoch_started_at + DAY,
            fees_total_msat: state.epoch_fees_start,
            forwards_total: state.epoch_forwards_start + libm::round(sales) as u64,
            local_share: 0.5,
            chain_ppm: state.price_ppm,
            prior_ppm: state.price_ppm,
        }
    }

    #[test]
    fn converged_search_stays_put() {
        let (state, _) = search(100, 600.0, 30);
        assert!(state.converged_score >= 0.0, "converged within 30 days");
        let mut quiet = state.clone();
        assert_eq!(
            step(&mut quiet, &converged_day(&state, 1.0), &test_params()),
            Step::Holding
        );
        assert_eq!(quiet.price_ppm, state.price_ppm);
    }

    #[test]
    fn a_revenue_collapse_restarts_the_search() {
        let (mut state, _) = search(100, 600.0, 30);
        let before = state.price_ppm;
        let collapse = converged_day(&state, 0.3);
        assert_eq!(step(&mut state, &collapse, &test_params()), Step::Reprobing);
        assert!(state.price_ppm < before, "looks lower first");
    }

    #[test]
    fn epochs_wait_for_time_and_forwards() {
        let params = test_params();
        let mut state = ChannelState::default();
        let mut obs = Observation {
            now: 0,
            fees_total_msat: 0,
            forwards_total: 0,
            local_share: 0.5,
            chain_ppm: 100,
            prior_ppm: 100,
        };
        step(&mut state, &obs, &params);
        obs.now = 23 * 3600;
        obs.forwards_total = 50;
        assert_eq!(
            step(&mut state, &obs, &params),
            Step::Waiting,
            "not a day yet"
        );
        obs.now = DAY;
        obs.forwards_total = 3;
        obs.fees_total_msat = 1;
        let mut few = state.clone();
        assert_eq!(
            step(&mut few, &obs, &params),
            Step::Waiting,
            "too few forwards"
        );
        obs.now = 3 * DAY;
        assert!(
            matches!(step(&mut few, &obs, &params), Step::Moved { .. }),
            "judged after 3 epochs anyway"
        );
    }

    #[test]
    fn starved_epochs_raise_the_price_unjudged() {
        let params = test_params();
        let mut state = ChannelState::default();
        let mut obs = Observation {
            now: 0,
            fees_total_msat: 0,
            forwards_total: 0,
            local_share: 0.05,
            chain_ppm: 300,
            prior_ppm: 300,
        };
        step(&mut state, &obs, &params);
        obs.now = DAY;
        obs.forwards_total = 20;
        assert_eq!(step(&mut state, &obs, &params), Step::Starved);
        assert_eq!(state.price_ppm, 375, "rationed: one step up");
        assert!(state.incumbent_score < 0.0, "nothing learned about demand");
    }

    #[test]
    fn counters_going_backwards_take_a_new_baseline() {
        let params = test_params();
        let mut state = ChannelState::default();
        let mut obs = Observation {
            now: 0,
            fees_total_msat: 5000,
            forwards_total: 50,
            local_share: 0.5,
            chain_ppm: 300,
            prior_ppm: 300,
        };
        step(&mut state, &obs, &params);
        obs.now = 2 * DAY;
        obs.fees_total_msat = 10;
        obs.forwards_total = 1;
        assert_eq!(step(&mut state, &obs, &params), Step::Waiting);
        assert_eq!(state.epoch_fees_start, 10);
    }
}
