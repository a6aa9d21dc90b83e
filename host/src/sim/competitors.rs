//! The channels competing with ours for the same destinations, each with a fee policy of its
//! own and finite liquidity.
//!
//! A sender weighs every route by `price^-k` (k the market's elasticity): with one competitor
//! this is exactly `share = 1 / (1 + (fee / competitor)^k)`. The competitors of a route
//! together are as strong an alternative as one at their price: competitor `i` counts with
//! its share `w_i` of the route's weight, so
//! `share = 1 / (1 + Σ w_i (fee / price_i)^k)` over those with liquidity for the payment. A
//! competitor that ran dry is no alternative until it refills. A channel without competitor
//! specs keeps the single static competitor at `competitor-ppm` (no state here at all).

use super::{
    market::Candidate,
    network::SimNetwork,
    scenario::{ChannelSpec, CompetitorPolicy, CompetitorSpec, Market},
};

const HOUR_MS: f64 = 3_600_000.0;

struct Competitor {
    spec: CompetitorSpec,
    /// Its own fee, and the fee it charges now.
    own_ppm: u32,
    ppm: u32,
    /// Its share of the route's weight (the weights of a route sum to 1).
    weight: f64,
    /// Liquidity towards the destination: capacity, what is left, when that was computed.
    capacity_msat: Option<u64>,
    available_msat: u64,
    updated_ms: u64,
}

impl Competitor {
    /// What it can carry at `now_ms`: refilled linearly since it was last drained.
    fn available_at(&self, now_ms: u64) -> u64 {
        let Some(capacity) = self.capacity_msat else {
            return u64::MAX;
        };
        let elapsed = now_ms.saturating_sub(self.updated_ms);
        let refill_ms = (self.spec.refill_hours * HOUR_MS).max(1.0) as u128;
        let gained = u128::from(capacity) * u128::from(elapsed) / refill_ms;
        (u128::from(self.available_msat) + gained).min(u128::from(capacity)) as u64
    }

    fn refill(&mut self, now_ms: u64) {
        if self.capacity_msat.is_some() {
            self.available_msat = self.available_at(now_ms);
            self.updated_ms = now_ms;
        }
    }

    fn can_carry(&self, amount_msat: u64) -> bool {
        self.capacity_msat.is_none() || self.available_msat >= amount_msat
    }

    /// Its weight in a sender's choice against our effective fee: `w (ours / price)^k`.
    fn pull(&self, amount_msat: u64, our_ppm: f64, k: f64) -> f64 {
        let price = f64::from(self.ppm) + f64::from(self.spec.base_msat) * 1e6 / amount_msat as f64;
        self.weight * (our_ppm / price.max(1e-9)).powf(k)
    }
}

/// Per route: when its competitors next look at the market, and who carried its senders
/// since they last did.
#[derive(Clone, Copy, Default)]
struct Route {
    start: u32,
    len: u32,
    next_react_ms: u64,
    ours: u64,
    theirs: u64,
}

pub(super) struct Competitors {
    routes: Vec<Route>,
    list: Vec<Competitor>,
    elasticity: f64,
    /// Any competitor whose fee moves (only then is there anything to react).
    dynamic: bool,
    /// The scenario's first instant: price wars count their periods from it.
    start_ms: u64,
}

impl Competitors {
    pub fn new(specs: &[ChannelSpec], market: &Market, start_ms: u64) -> Self {
        let mut routes = Vec::with_capacity(specs.len());
        let mut list = Vec::new();
        let mut dynamic = false;
        for spec in specs {
            let listed = if spec.competitors.is_empty() {
                &market.competitors
            } else {
                &spec.competitors
            };
            let total_weight: f64 = listed.iter().map(|c| c.weight).sum();
            let start = list.len() as u32;
            let mut react_hours = f64::INFINITY;
            for c in listed {
                let own_ppm = c.ppm.unwrap_or_else(|| {
                    (f64::from(spec.competitor_ppm) * c.ppm_factor)
                        .round()
                        .max(1.0) as u32
                });
                let capacity_msat = c.liquidity_sat.map(|sat| sat * 1000);
                dynamic |= c.policy != CompetitorPolicy::Static;
                react_hours = react_hours.min(c.react_hours);
                list.push(Competitor {
                    spec: c.clone(),
                    own_ppm,
                    ppm: own_ppm,
                    weight: c.weight / total_weight,
                    capacity_msat,
                    available_msat: capacity_msat.unwrap_or(0),
                    updated_ms: start_ms,
                });
            }
            routes.push(Route {
                start,
                len: list.len() as u32 - start,
                next_react_ms: start_ms + (react_hours.min(1e6) * HOUR_MS) as u64,
                ..Route::default()
            });
        }
        Self {
            routes,
            list,
            elasticity: market.elasticity,
            dynamic,
            start_ms,
        }
    }

    fn of(&self, channel: usize) -> std::ops::Range<usize> {
        let route = self.routes[channel];
        route.start as usize..(route.start + route.len) as usize
    }

    /// Whether `channel` has competitor specs (else: the static `competitor-ppm` default).
    pub fn listed(&self, channel: usize) -> bool {
        self.routes[channel].len > 0
    }

    /// The share of senders who pick us on price, at effective fee `our_ppm`, for a payment of
    /// `amount_msat` through `channel`; `competitor_ppm` is the default single competitor.
    pub fn share(
        &mut self,
        channel: usize,
        amount_msat: u64,
        our_ppm: f64,
        competitor_ppm: u32,
        now_ms: u64,
    ) -> f64 {
        let k = self.elasticity;
        if !self.listed(channel) {
            return 1.0 / (1.0 + (our_ppm / f64::from(competitor_ppm)).powf(k));
        }
        let mut alternative = 0.0;
        let range = self.of(channel);
        for c in &mut self.list[range] {
            c.refill(now_ms);
            if c.can_carry(amount_msat) {
                alternative += c.pull(amount_msat, our_ppm, k);
            }
        }
        1.0 / (1.0 + alternative)
    }

    /// A sender who did not pick us takes competitor `i` with probability ∝ its pull; `u` in
    /// `[0, 1)` picks (the rest of the sender's own draw, no new randomness). The payment
    /// drains that competitor's liquidity.
    pub fn carry(&mut self, channel: usize, u: f64, amount_msat: u64, our_ppm: f64) {
        let route = &mut self.routes[channel];
        route.theirs += 1;
        if route.len == 0 {
            return;
        }
        let k = self.elasticity;
        let range = self.of(channel);
        let total: f64 = self.list[range.clone()]
            .iter()
            .filter(|c| c.can_carry(amount_msat))
            .map(|c| c.pull(amount_msat, our_ppm, k))
            .sum();
        let mut left = u * total;
        let mut chosen = None;
        for (i, c) in self.list[range].iter().enumerate() {
            if !c.can_carry(amount_msat) {
                continue;
            }
            chosen = Some(i);
            left -= c.pull(amount_msat, our_ppm, k);
            if left < 0.0 {
                break;
            }
        }
        if let Some(i) = chosen {
            let c = &mut self.list[self.routes[channel].start as usize + i];
            if c.capacity_msat.is_some() {
                c.available_msat -= amount_msat;
            }
        }
    }

    /// A sender picked us on price.
    pub fn record_ours(&mut self, channel: usize) {
        self.routes[channel].ours += 1;
    }

    /// Lets the competitors of `channel` reprice if they are due; `our_ppm` is our fee as
    /// senders (and they) see it.
    pub fn react_if_due(&mut self, channel: usize, now_ms: u64, our_ppm: u32) {
        if !self.dynamic || now_ms < self.routes[channel].next_react_ms {
            return;
        }
        let route = self.routes[channel];
        let carried = route.ours + route.theirs;
        let our_share = (carried > 0).then(|| route.ours as f64 / carried as f64);
        let range = self.of(channel);
        let median = self.route_median(range.clone(), our_ppm);
        let mut react_hours = f64::INFINITY;
        for i in range {
            let c = &mut self.list[i];
            react_hours = react_hours.min(c.spec.react_hours);
            c.ppm = reprice(
                c,
                now_ms.saturating_sub(self.start_ms),
                our_ppm,
                our_share,
                median(i),
            );
        }
        let route = &mut self.routes[channel];
        route.next_react_ms = now_ms + (react_hours * HOUR_MS) as u64;
        route.ours = 0;
        route.theirs = 0;
    }

    /// For each competitor `i` of the route: the median fee of the others and ours.
    fn route_median(
        &self,
        range: std::ops::Range<usize>,
        our_ppm: u32,
    ) -> impl Fn(usize) -> u32 + use<> {
        // Routes have a handful of competitors: a small sorted copy per reaction (hourly).
        let fees: Vec<(usize, u32)> = range.map(|i| (i, self.list[i].ppm)).collect();
        move |me| {
            let mut others: Vec<u32> = fees
                .iter()
                .filter(|(i, _)| *i != me)
                .map(|(_, ppm)| *ppm)
                .chain([our_ppm])
                .collect();
            others.sort_unstable();
            let mid = others.len() / 2;
            if others.len().is_multiple_of(2) {
                ((u64::from(others[mid - 1]) + u64::from(others[mid])) / 2) as u32
            } else {
                others[mid]
            }
        }
    }

    /// The competitors of `channel` as gossip shows them: (index in the route, fee ppm, base).
    pub fn listing(&self, channel: usize) -> impl Iterator<Item = (u64, u32, u32)> + '_ {
        self.list[self.of(channel)]
            .iter()
            .enumerate()
            .map(|(n, c)| (n as u64, c.ppm, c.spec.base_msat))
    }

    /// The fees of `channel`'s competitors now (for tests and reports).
    pub fn fees(&self, channel: usize) -> Vec<u32> {
        self.list[self.of(channel)].iter().map(|c| c.ppm).collect()
    }

    /// What each competitor of `channel` can carry at `now_ms` (msat; `None`: unlimited).
    pub fn liquidity(&self, channel: usize, now_ms: u64) -> Vec<Option<u64>> {
        self.list[self.of(channel)]
            .iter()
            .map(|c| c.capacity_msat.map(|_| c.available_at(now_ms)))
            .collect()
    }
}

impl SimNetwork {
    /// Whether the sender picks our channel `out` over the competing routes (and over the
    /// memory of its recent failures) at `fee` msat; `seen_ppm` is our fee as they see it.
    pub(super) fn sender_picks_us(
        &mut self,
        candidate: &Candidate,
        seen_ppm: u32,
        fee: u64,
    ) -> bool {
        let out = candidate.channel;
        self.competitors.react_if_due(out, self.now_ms, seen_ppm);
        let effective_ppm = fee as f64 * 1e6 / candidate.amount as f64;
        let competitor_ppm = self.channels[out].spec.competitor_ppm;
        let share = self.competitors.share(
            out,
            candidate.amount,
            effective_ppm,
            competitor_ppm,
            self.now_ms,
        );
        let willing = share * self.memory.willingness(out, self.now_ms);
        if candidate.accept_draw < willing {
            self.competitors.record_ours(out);
            return true;
        }
        if candidate.accept_draw < share {
            self.stats.lost_to_sender_memory += 1;
        } else {
            self.stats.lost_to_competitors += 1;
        }
        // The rest of the sender's draw picks the competitor that carries the payment.
        let u = (candidate.accept_draw - willing) / (1.0 - willing);
        self.competitors
            .carry(out, u, candidate.amount, effective_ppm);
        false
    }

    /// Every route's competitors that are due look at the market (after each advance, so
    /// gossip shows their fees as of now).
    pub(super) fn competitors_react(&mut self) {
        if !self.competitors.dynamic {
            return;
        }
        for index in 0..self.channels.len() {
            let seen = self
                .gossip_delay
                .seen(index, self.channels[index].fee(), self.now_ms);
            self.competitors.react_if_due(index, self.now_ms, seen.ppm);
        }
    }

    /// The current fees of the competitors of our channel `index` (empty: the static
    /// `competitor-ppm` default).
    pub fn competitor_fees(&self, index: usize) -> Vec<u32> {
        self.competitors.fees(index)
    }

    /// What each competitor of our channel `index` can carry now (msat; `None`: unlimited).
    pub fn competitor_liquidity(&self, index: usize) -> Vec<Option<u64>> {
        self.competitors.liquidity(index, self.now_ms)
    }
}

/// A competitor's fee after one look at the market, `elapsed_ms` into the run.
fn reprice(
    c: &Competitor,
    elapsed_ms: u64,
    our_ppm: u32,
    our_share: Option<f64>,
    median: u32,
) -> u32 {
    let s = &c.spec;
    let toward = |target: u32, rate: f64| {
        let gap = f64::from(target) - f64::from(c.ppm);
        (f64::from(c.ppm) + gap * rate).round().max(1.0) as u32
    };
    match s.policy {
        CompetitorPolicy::Static => c.ppm,
        CompetitorPolicy::Undercut => match our_share {
            Some(share) if share > s.undercut_threshold => {
                let floor = s.floor_ppm.unwrap_or(c.own_ppm / 4).max(1);
                let target = (f64::from(our_ppm) * (1.0 - s.undercut_step)).round() as u32;
                target.min(c.ppm).max(floor)
            }
            Some(share) if share > s.undercut_threshold / 2.0 => c.ppm,
            // We carry little of the route: back towards its own price.
            _ => toward(c.own_ppm, s.follow_rate),
        },
        CompetitorPolicy::PriceWar => {
            let hours = elapsed_ms as f64 / HOUR_MS - s.phase_hours;
            if hours.rem_euclid(s.period_hours) < s.war_hours {
                (f64::from(c.own_ppm) * s.war_factor).round().max(1.0) as u32
            } else {
                c.own_ppm
            }
        }
        CompetitorPolicy::FollowMedian => toward(median, s.follow_rate),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Scenario;

    fn spec(policy: CompetitorPolicy) -> CompetitorSpec {
        toml::from_str::<CompetitorSpec>(&format!(
            "policy = {:?}",
            serde_json::to_value(policy).unwrap().as_str().unwrap()
        ))
        .unwrap()
    }

    fn route(competitors: Vec<CompetitorSpec>) -> Competitors {
        let scenario = Scenario::builtin("default").unwrap();
        let mut channel = scenario.channels[0].clone();
        channel.competitor_ppm = 500;
        channel.competitors = competitors;
        Competitors::new(&[channel], &scenario.market, 0)
    }

    #[test]
    fn one_static_competitor_is_the_old_formula() {
        let mut listed = route(vec![spec(CompetitorPolicy::Static)]);
        let mut default = route(vec![]);
        assert!(!default.listed(0) && listed.listed(0));
        for ours in [0.0, 100.0, 500.0, 2000.0] {
            let a = listed.share(0, 1_000_000, ours, 500, 0);
            let b = default.share(0, 1_000_000, ours, 500, 0);
            assert!((a - b).abs() < 1e-12, "{ours}: {a} vs {b}");
        }
    }

    #[test]
    fn liquidity_runs_out_and_refills() {
        let mut c = spec(CompetitorPolicy::Static);
        c.liquidity_sat = Some(100_000);
        c.refill_hours = 10.0;
        let mut competitors = route(vec![c]);
        let before = competitors.share(0, 60_000_000, 500.0, 500, 0);
        competitors.carry(0, 0.5, 60_000_000, 500.0);
        // 40,000 sat left: a 60,000 sat payment has no alternative but us.
        assert_eq!(competitors.share(0, 60_000_000, 500.0, 500, 0), 1.0);
        assert!((before - 0.5).abs() < 1e-9);
        // Five hours refill half the capacity: enough again.
        assert_eq!(competitors.liquidity(0, 5 * 3_600_000), [Some(90_000_000)]);
        assert!(competitors.share(0, 60_000_000, 500.0, 500, 5 * 3_600_000) < 1.0);
    }

    #[test]
    fn undercut_answers_when_we_take_the_traffic() {
        let mut competitors = route(vec![spec(CompetitorPolicy::Undercut)]);
        for _ in 0..10 {
            competitors.record_ours(0);
        }
        competitors.react_if_due(0, 3_600_000, 400);
        assert_eq!(competitors.fees(0), [360]);
        // We lose the route: it drifts back towards its own 500.
        for _ in 0..10 {
            competitors.carry(0, 0.5, 1000, 400.0);
        }
        competitors.react_if_due(0, 2 * 3_600_000, 400);
        assert_eq!(competitors.fees(0), [430]);
    }

    #[test]
    fn price_war_comes_back_every_period() {
        let mut c = spec(CompetitorPolicy::PriceWar);
        (c.period_hours, c.war_hours, c.war_factor) = (10.0, 2.0, 0.5);
        let mut competitors = route(vec![c]);
        let mut seen = Vec::new();
        for hour in 1..=12 {
            competitors.react_if_due(0, hour * 3_600_000, 500);
            seen.push(competitors.fees(0)[0]);
        }
        assert_eq!(
            seen,
            [250, 500, 500, 500, 500, 500, 500, 500, 500, 250, 250, 500]
        );
    }

    #[test]
    fn follow_median_closes_the_gap() {
        let mut a = spec(CompetitorPolicy::FollowMedian);
        a.ppm = Some(1000);
        let mut b = spec(CompetitorPolicy::Static);
        b.ppm = Some(200);
        let mut competitors = route(vec![a, b]);
        // Median of the others (200) and ours (300): 250; half the gap from 1000.
        competitors.react_if_due(0, 3_600_000, 300);
        assert_eq!(competitors.fees(0), [625, 200]);
    }
}
