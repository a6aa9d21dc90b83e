//! A simulated routing node and the market around it, implementing `Node`.
//!
//! Payments that would leave through a channel arrive as a Poisson process scaled by the
//! channel's demand weight; each one routes through us only if our fee beats the competing
//! routes often enough (`share = 1 / (1 + (fee / competitor)^k)`), enters through a channel
//! picked by inbound weight, needs liquidity and a free HTLC slot on both sides, is held for a
//! while (so slots fill) and then settles or fails downstream.
//!
//! Every channel has its own random stream, and a payment always consumes the same draws
//! whether it routes or not, so two policies on the same scenario and seed face the very same
//! stream of senders ("common random numbers"): differences in outcome are the policies'.

pub(super) use super::node_ids::{node_id, own_node_id};
use super::{
    competitors::Competitors,
    demand::Demand,
    floods::FloodQueue,
    forward_book::ForwardBook,
    gossip_delay::{Fee, GossipDelay},
    lifecycle::{Life, Schedule},
    market::{Candidate, poisson},
    scenario::{ChannelSpec, Event, Scenario},
    sender_memory::SenderMemory,
};
use crate::{
    money::Msat,
    node::{
        FEE_INSUFFICIENT, Forward, ForwardFailure, ForwardStatus, NodeHtlc, Payment,
        TEMPORARY_CHANNEL_FAILURE,
    },
    rng::SplitMix64,
    scid::ShortChannelId,
};
use serde::Serialize;
use std::{
    cmp::Reverse,
    collections::{BinaryHeap, HashMap},
};

const DAY_SECS: u64 = 86_400;
pub(super) const BLOCK_SECS: u64 = 600;
pub(super) const START_HEIGHT: u32 = 900_000;
const PICK_ATTEMPTS: u32 = 8;

pub(super) struct SimChannel {
    pub(super) id: ShortChannelId,
    pub(super) peer_id: String,
    pub(super) capacity: u64,
    /// Spendable by us / by the peer, HTLCs in flight excluded (msat).
    pub(super) local: u64,
    pub(super) remote: u64,
    pub(super) reserve: u64,
    pub(super) fee_ppm: u32,
    pub(super) fee_base: u32,
    pub(super) spec: ChannelSpec,
    pub(super) funding_height: u32,
    pub(super) htlcs: Vec<(u64, NodeHtlc)>,
    /// Opened, closed, offline: see `lifecycle`.
    pub(super) life: Life,
    rng: SplitMix64,
}

struct InFlight {
    out: usize,
    inc: usize,
    amount: u64,
    fee: u64,
    created_index: u64,
    fails: bool,
}

/// Running totals of the market, for the report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MarketStats {
    /// Senders who wanted to pay through one of our channels (floods not counted), whatever
    /// became of them: the demand the market drew.
    pub senders: u64,
    pub fees_earned: Msat,
    pub forwards_settled: u64,
    pub forwards_failed_downstream: u64,
    /// Forwards we could not make: no liquidity or no free slot on our side.
    pub forwards_failed_local: u64,
    /// Senders who took a cheaper route.
    pub lost_to_competitors: u64,
    /// Senders who had no way in (no inbound liquidity anywhere).
    pub lost_no_inbound: u64,
    /// Of `forwards_failed_local`: HTLCs priced with a fee older and lower than ours
    /// (gossip delay), failed with `WIRE_FEE_INSUFFICIENT`.
    pub forwards_failed_fee_insufficient: u64,
    /// Senders our price would have won who avoided a channel that failed recently.
    pub lost_to_sender_memory: u64,
    pub fee_updates: u64,
    /// Routing fees paid for circular rebalances.
    pub rebalance_fees_paid: Msat,
    /// Circular rebalance payments sent, and how many of them arrived.
    pub rebalances_sent: u64,
    pub rebalances_completed: u64,
    /// On-chain fees of the channels we opened or closed during the run (at the feerate of
    /// the moment); the run's net should subtract them.
    pub onchain_fees_paid: Msat,
    pub channels_opened: u64,
    pub channels_closed: u64,
    /// Senders who did not try a channel whose peer they had seen go offline.
    pub lost_peer_offline: u64,
    /// Forwards failed because the next peer was offline (also in `forwards_failed_local`).
    pub forwards_failed_offline: u64,
    /// Flood HTLCs we took and held, and ones that found no room on the way in (never ours).
    pub flood_htlcs_held: u64,
    pub flood_htlcs_refused: u64,
}

/// Invoices we made and payments we sent (circular rebalances).
pub(super) struct PaymentBook {
    /// payment hash → (label, amount).
    pub invoices: HashMap<String, (String, Msat)>,
    /// payment hash → final outcome.
    pub sent: HashMap<String, Payment>,
    pub rng: SplitMix64,
}

pub struct SimNetwork {
    pub(super) scenario: Scenario,
    pub(super) now_ms: u64,
    pub(super) channels: Vec<SimChannel>,
    pub(super) in_cumulative: Vec<f64>,
    pending: BinaryHeap<Reverse<(u64, u64)>>,
    in_flight: HashMap<u64, InFlight>,
    next_serial: u64,
    pub(super) forwards: ForwardBook,
    flood_rng: SplitMix64,
    pub(super) stats: MarketStats,
    pub(super) payments: PaymentBook,
    /// Channel opens, closes, offline peers (`lifecycle`), and flood HTLCs (`floods`).
    pub(super) lifecycle: Schedule,
    pub(super) floods: FloodQueue,
    pub(super) demand: Demand,
    pub(super) competitors: Competitors,
    pub(super) memory: SenderMemory,
    pub(super) gossip_delay: GossipDelay,
}

impl SimNetwork {
    pub fn new(scenario: &Scenario, channel_count: Option<usize>) -> Self {
        let mut seeds = SplitMix64::new(scenario.seed);
        let specs = scenario.channel_specs(channel_count);
        let demand = Demand::new(scenario, &specs);
        let competitors = Competitors::new(&specs, &scenario.market, scenario.start * 1000);
        let channels: Vec<SimChannel> = specs
            .into_iter()
            .enumerate()
            .map(|(index, spec)| new_channel(index, spec, seeds.fork()))
            .collect();
        let mut total = 0.0;
        let in_cumulative = channels
            .iter()
            .map(|c| {
                total += c.spec.in_weight;
                total
            })
            .collect();
        // A run with fewer channels than the scenario names keeps only the events it can apply.
        let mut scenario = scenario.clone();
        // (Demand shifts were resolved against the channels there are, in `Demand`.)
        scenario.events.retain(|event| match event {
            Event::HtlcFlood { channel, .. } => *channel < channels.len(),
            Event::DemandShift { .. } | Event::MempoolSpike { .. } => true,
            Event::Flood(flood) => [flood.out_channel, flood.in_channel]
                .into_iter()
                .flatten()
                .all(|c| c < channels.len()),
            Event::PeerOffline(offline) => offline.channel < channels.len(),
        });
        let (lifecycle, floods) = super::lifecycle::timeline(&scenario, &channels);
        let memory = SenderMemory::new(scenario.market.sender_memory.as_ref(), channels.len());
        let gossip_delay = GossipDelay::new(
            scenario.market.gossip_delay.as_ref(),
            scenario.seed,
            channels.iter().map(SimChannel::fee),
        );
        Self {
            now_ms: scenario.start * 1000,
            demand,
            competitors,
            memory,
            gossip_delay,
            scenario,
            channels,
            in_cumulative,
            pending: BinaryHeap::new(),
            in_flight: HashMap::new(),
            next_serial: 0,
            forwards: ForwardBook::default(),
            flood_rng: seeds.fork(),
            stats: MarketStats::default(),
            payments: PaymentBook {
                invoices: HashMap::new(),
                sent: HashMap::new(),
                rng: seeds.fork(),
            },
            lifecycle,
            floods,
        }
    }

    pub fn stats(&self) -> &MarketStats {
        &self.stats
    }

    pub(super) fn stats_mut(&mut self) -> &mut MarketStats {
        &mut self.stats
    }

    pub(super) fn our_id(&self) -> String {
        own_node_id().to_owned()
    }

    pub(super) fn channel_index(&self, id: ShortChannelId) -> Option<usize> {
        self.channels.iter().position(|c| c.id == id)
    }

    /// Whether channel `index` can send `msat` more (our side, above the reserve).
    pub(super) fn can_send(&self, index: usize, msat: u64) -> bool {
        let c = &self.channels[index];
        c.local >= msat + c.reserve
    }

    /// Whether channel `index` can receive `msat` more (the peer's side, above the reserve).
    pub(super) fn can_receive(&self, index: usize, msat: u64) -> bool {
        let c = &self.channels[index];
        c.remote >= msat + c.reserve
    }

    /// A settled circular payment: `sent` leaves through `out`, `amount` comes back via `back`.
    pub(super) fn move_circular(&mut self, out: usize, back: usize, sent: u64, amount: u64) {
        self.channels[out].local -= sent;
        self.channels[out].remote += sent;
        self.channels[back].remote -= amount;
        self.channels[back].local += amount;
    }

    pub fn channel_ids(&self) -> Vec<ShortChannelId> {
        self.channels.iter().map(|c| c.id).collect()
    }

    pub fn channels_peer_ids(&self) -> Vec<String> {
        self.channels.iter().map(|c| c.peer_id.clone()).collect()
    }

    pub fn labels(&self) -> Vec<String> {
        self.channels.iter().map(|c| c.spec.label.clone()).collect()
    }

    /// Our share of each channel's capacity (in-flight HTLCs count as still ours).
    pub fn local_shares(&self) -> Vec<f64> {
        self.channels
            .iter()
            .map(|c| {
                let in_flight: u64 = c
                    .htlcs
                    .iter()
                    .filter(|(_, h)| h.outgoing)
                    .map(|(_, h)| h.amount.msat())
                    .sum();
                (c.local + in_flight) as f64 / c.capacity as f64
            })
            .collect()
    }

    pub fn fees_ppm(&self) -> Vec<u32> {
        self.channels.iter().map(|c| c.fee_ppm).collect()
    }

    /// Runs the market from now until `end_secs`.
    pub fn advance_to(&mut self, end_secs: u64) {
        let end_ms = end_secs * 1000;
        if end_ms <= self.now_ms {
            return;
        }
        self.forwards.trim();
        let factor = self.demand_factor(end_ms);
        let mut candidates = self.draw_candidates(end_ms, factor);
        self.add_floods(end_ms, &mut candidates);
        candidates.sort_by_key(|c| (c.at_ms, c.channel, c.serial_hint));
        for candidate in candidates {
            self.run_scheduled(candidate.at_ms, true);
            self.resolve_until(candidate.at_ms);
            self.now_ms = candidate.at_ms;
            self.route(&candidate);
        }
        self.run_scheduled(end_ms, false);
        self.resolve_until(end_ms);
        self.now_ms = end_ms;
        self.competitors_react();
    }

    pub(super) fn day_offset(&self, day: f64) -> u64 {
        self.scenario.start + (day * DAY_SECS as f64) as u64
    }

    fn draw_candidates(&mut self, end_ms: u64, factor: f64) -> Vec<Candidate> {
        let market = self.scenario.market.clone();
        let span_ms = end_ms - self.now_ms;
        let mut candidates = Vec::new();
        for index in 0..self.channels.len() {
            let multiplier = self.demand.out_multiplier(index, self.now_ms / 1000) * factor;
            let channel = &mut self.channels[index];
            let rate = market.payments_per_channel_day
                * channel.spec.out_weight
                * multiplier
                * span_ms as f64
                / (DAY_SECS * 1000) as f64;
            let count = poisson(rate, &mut channel.rng);
            for serial_hint in 0..count {
                candidates.push(Candidate::draw(
                    index,
                    serial_hint,
                    self.now_ms,
                    span_ms,
                    &market,
                    &self.demand.sizes[index],
                    &mut channel.rng,
                ));
            }
        }
        candidates
    }

    fn add_floods(&mut self, end_ms: u64, candidates: &mut Vec<Candidate>) {
        for event in &self.scenario.events {
            let Event::HtlcFlood {
                channel,
                start_day,
                hours,
                count,
                amount_sat,
            } = event
            else {
                continue;
            };
            let start_ms = self.day_offset(*start_day) * 1000;
            if !(self.now_ms..end_ms).contains(&start_ms) {
                continue;
            }
            for serial_hint in 0..*count {
                candidates.push(Candidate::flood(
                    *channel,
                    u64::from(serial_hint),
                    start_ms,
                    amount_sat * 1000,
                    (hours * 3_600_000.0) as u64,
                    self.flood_rng.unit(),
                ));
            }
        }
    }

    /// One sender's attempt to pay through channel `candidate.channel`.
    fn route(&mut self, candidate: &Candidate) {
        if !self.senders_try(candidate) {
            return;
        }
        let out = candidate.channel;
        let current = self.channels[out].fee();
        // Senders price with the fee gossip brought them (floods pay what we charge).
        let fee = if candidate.forced {
            current.on(candidate.amount)
        } else {
            self.stats.senders += 1;
            let seen = self.gossip_delay.seen(out, current, self.now_ms);
            let fee = seen.on(candidate.amount);
            if !self.sender_picks_us(candidate, seen.ppm, fee) {
                return;
            }
            fee
        };
        let Some(inc) = self.pick_incoming(candidate.pick_draw, out, candidate.amount + fee) else {
            self.stats.lost_no_inbound += 1;
            return;
        };
        if !self.channels[out].connected() {
            self.fail_offline(inc, out, candidate.amount, fee);
            return;
        }
        if !self
            .gossip_delay
            .accepts(out, fee, candidate.amount, current, self.now_ms)
        {
            self.stats.forwards_failed_fee_insufficient += 1;
            self.fail_locally(inc, out, candidate.amount, fee, FEE_INSUFFICIENT);
            return;
        }
        let channel = &self.channels[out];
        let slots_full = channel.htlcs.len() >= usize::from(channel.spec.max_accepted_htlcs);
        if channel.local < candidate.amount + channel.reserve || slots_full {
            self.fail_locally(inc, out, candidate.amount, fee, TEMPORARY_CHANNEL_FAILURE);
            return;
        }
        self.add_htlc(inc, out, candidate, fee);
    }

    pub(super) fn pick_incoming(&self, draw: f64, out: usize, needed: u64) -> Option<usize> {
        let total = *self.in_cumulative.last()?;
        if total <= 0.0 {
            return None;
        }
        (0..PICK_ATTEMPTS).find_map(|attempt| {
            let u = (draw + f64::from(attempt) * 0.618_033_988_75).fract() * total;
            let index = self
                .in_cumulative
                .partition_point(|&c| c <= u)
                .min(self.channels.len() - 1);
            let channel = &self.channels[index];
            let usable = index != out
                && channel.usable()
                && channel.remote >= needed + channel.reserve
                && channel.htlcs.len() < usize::from(channel.spec.max_accepted_htlcs);
            usable.then_some(index)
        })
    }

    pub(super) fn fail_locally(
        &mut self,
        inc: usize,
        out: usize,
        amount: u64,
        fee: u64,
        code: u32,
    ) {
        self.stats.forwards_failed_local += 1;
        self.memory.record_failure(out, self.now_ms);
        let forward = Forward {
            created_index: 0,
            updated_index: None,
            in_channel: self.channels[inc].id,
            out_channel: Some(self.channels[out].id),
            in_amount: Msat::new(amount + fee),
            out_amount: None,
            fee: None,
            status: ForwardStatus::LocalFailed,
            received_ms: self.now_ms,
            // lightningd gives a local failure no resolution time.
            resolved_ms: None,
            failure: Some(ForwardFailure {
                code,
                reason: if code == FEE_INSUFFICIENT {
                    "WIRE_FEE_INSUFFICIENT"
                } else {
                    "WIRE_TEMPORARY_CHANNEL_FAILURE"
                }
                .into(),
            }),
        };
        self.forwards.create(forward);
    }

    fn add_htlc(&mut self, inc: usize, out: usize, candidate: &Candidate, fee: u64) {
        let fails =
            candidate.forced || candidate.fail_draw < self.scenario.market.downstream_fail_rate;
        self.hold_htlc(inc, out, candidate.amount, fee, candidate.hold_ms, fails);
    }

    /// Adds an HTLC of `amount` (plus `fee` on the way in) from `inc` to `out`, resolved after
    /// `hold_ms`: settled, or failed back when `fails`.
    pub(super) fn hold_htlc(
        &mut self,
        inc: usize,
        out: usize,
        amount: u64,
        fee: u64,
        hold_ms: u64,
        fails: bool,
    ) {
        let serial = self.next_serial;
        self.next_serial += 1;
        self.channels[out].local -= amount;
        self.channels[out].htlcs.push((
            serial,
            NodeHtlc {
                outgoing: true,
                amount: Msat::new(amount),
            },
        ));
        self.channels[inc].remote -= amount + fee;
        self.channels[inc].htlcs.push((
            serial,
            NodeHtlc {
                outgoing: false,
                amount: Msat::new(amount + fee),
            },
        ));
        let created_index = self.forwards.create(Forward {
            created_index: 0,
            updated_index: None,
            in_channel: self.channels[inc].id,
            out_channel: Some(self.channels[out].id),
            in_amount: Msat::new(amount + fee),
            out_amount: Some(Msat::new(amount)),
            fee: Some(Msat::new(fee)),
            status: ForwardStatus::Offered,
            received_ms: self.now_ms,
            resolved_ms: None,
            failure: None,
        });
        self.in_flight.insert(
            serial,
            InFlight {
                out,
                inc,
                amount,
                fee,
                created_index,
                fails,
            },
        );
        self.pending.push(Reverse((self.now_ms + hold_ms, serial)));
    }

    pub(super) fn resolve_until(&mut self, until_ms: u64) {
        while let Some(&Reverse((at_ms, serial))) = self.pending.peek() {
            if at_ms > until_ms {
                break;
            }
            self.pending.pop();
            self.now_ms = self.now_ms.max(at_ms);
            self.resolve(serial, at_ms);
        }
    }

    fn resolve(&mut self, serial: u64, at_ms: u64) {
        let flight = &self.in_flight[&serial];
        let (out, inc, amount, fee, fails) = (
            flight.out,
            flight.inc,
            flight.amount,
            flight.fee,
            flight.fails,
        );
        for index in [out, inc] {
            self.channels[index].htlcs.retain(|(s, _)| *s != serial);
        }
        let status = if fails {
            self.channels[out].local += amount;
            self.channels[inc].remote += amount + fee;
            self.stats.forwards_failed_downstream += 1;
            ForwardStatus::Failed
        } else {
            self.channels[out].remote += amount;
            self.channels[inc].local += amount + fee;
            self.stats.forwards_settled += 1;
            self.stats.fees_earned = Msat::new(self.stats.fees_earned.msat() + fee);
            ForwardStatus::Settled
        };
        let created_index = self.in_flight[&serial].created_index;
        self.forwards.resolve(created_index, status, at_ms);
        self.in_flight.remove(&serial);
    }
}

impl SimChannel {
    pub(super) fn fee(&self) -> Fee {
        Fee {
            base: self.fee_base,
            ppm: self.fee_ppm,
        }
    }
}

fn new_channel(index: usize, spec: ChannelSpec, rng: SplitMix64) -> SimChannel {
    let capacity = spec.capacity_sat * 1000;
    let local = (capacity as f64 * spec.local_share) as u64;
    let age_blocks = u64::from(spec.age_days) * DAY_SECS / BLOCK_SECS;
    // A channel opened during the run is funded in the block of its open, and named after it.
    let opened_at = spec
        .open_day
        .map(|day| START_HEIGHT + (day * (DAY_SECS / BLOCK_SECS) as f64) as u32);
    let funding_height = opened_at.unwrap_or(START_HEIGHT.saturating_sub(age_blocks as u32));
    let id = match opened_at {
        Some(height) => ShortChannelId::new(u64::from(height), index as u64 + 1, 0),
        None => ShortChannelId::new(800_000 + index as u64 / 4000, index as u64 % 4000 + 1, 0),
    };
    SimChannel {
        id: id.expect("in range"),
        peer_id: node_id(index as u64 + 1),
        capacity,
        local,
        remote: capacity - local,
        reserve: capacity / 100,
        fee_ppm: spec.fee_ppm,
        fee_base: spec.base_msat,
        funding_height,
        htlcs: Vec::new(),
        life: Life::new(opened_at.is_some()),
        spec,
        rng,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fewer_channels_than_the_events_name_is_fine() {
        // The default scenario floods channels 4 and 6 and shifts channel 5's demand.
        let scenario = Scenario::builtin("default").unwrap();
        let mut network = SimNetwork::new(&scenario, Some(2));
        network.advance_to(scenario.start + u64::from(scenario.days) * DAY_SECS);
        assert_eq!(network.channel_ids().len(), 2);
        assert!(network.stats().forwards_settled > 0);
    }
}
