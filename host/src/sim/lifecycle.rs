//! Channels that come and go: peers offline for a while, channels opened and closed mid-run.
//!
//! A channel with `open-day` does not exist until then: it is not listed, and nobody routes
//! through it. When it opens it gets listed with its funding height, and if we opened it its
//! funding transaction costs the feerate of that moment (booked in `MarketStats` and shown to
//! the bookkeeper view, `onchain_fees`). A channel with `close-day` leaves `CHANNELD_NORMAL` for
//! `ONCHAIN` then (the opener pays the closing transaction), and is no longer listed once
//! lightningd would have forgotten it. A `peer-offline` event disconnects the peer: the channel
//! is listed with `peer_connected: false`; senders who have not yet seen the channel disabled
//! try it anyway and fail on our side with `WIRE_UNKNOWN_NEXT_PEER`, the rest go elsewhere.
//! With sender memory (`[market.sender-memory]`) each such failure, and the peer's return,
//! counts as a failure of the channel: it loses senders for a while after it is back.
//!
//! None of this draws from the market's streams: changes are fixed by the scenario, and the
//! few draws it needs reuse draws a candidate always makes.

use super::{
    floods::FloodQueue,
    market::Candidate,
    network::{SimChannel, SimNetwork},
    node_view::{FUNDING_VBYTES, channel_id},
    scenario::{Event, Scenario},
};
use crate::{
    model::Opener,
    money::Msat,
    node::{Forward, ForwardFailure, ForwardStatus, OnchainFee, UNKNOWN_NEXT_PEER},
};
use serde::{Deserialize, Serialize};

const DAY_MS: f64 = 86_400_000.0;
const HOUR_MS: f64 = 3_600_000.0;
/// vbytes of a mutual close (one input, two outputs), paid by the opener.
const CLOSE_VBYTES: u64 = 170;
/// A closed channel stays listed (state `ONCHAIN`) this long: lightningd forgets it 100 blocks
/// after the close confirms.
const CLOSED_LISTED_MS: u64 = 100 * 600 * 1000;
/// Senders keep trying a channel whose peer went offline until they see it disabled.
const OFFLINE_UNSEEN_MS: u64 = 30 * 60 * 1000;
/// After that, this share of senders (stale gossip) still try.
const OFFLINE_STALE_SHARE: f64 = 0.05;
/// The state lightningd lists a closed channel in.
pub(super) const STATE_CLOSED: &str = "ONCHAIN";

/// `kind = "peer-offline"`: channel `channel`'s peer is disconnected for `hours` from `start-day`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct PeerOffline {
    pub channel: usize,
    pub start_day: f64,
    pub hours: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    /// Opens later in the run.
    Unopened,
    Open,
    Closed {
        at_ms: u64,
    },
}

/// Where a channel is in its life.
#[derive(Clone, Debug)]
pub(super) struct Life {
    pub phase: Phase,
    /// Offline windows covering now (they may overlap), and since when the peer is down.
    pub offline: u32,
    pub offline_since_ms: u64,
}

impl Life {
    pub fn new(open_later: bool) -> Self {
        Self {
            phase: if open_later {
                Phase::Unopened
            } else {
                Phase::Open
            },
            offline: 0,
            offline_since_ms: 0,
        }
    }
}

impl SimChannel {
    /// Open with its peer connected: HTLCs can go through it.
    pub(super) fn usable(&self) -> bool {
        self.life.phase == Phase::Open && self.life.offline == 0
    }

    /// Whether `listpeerchannels` shows it at `now_ms`.
    pub(super) fn listed(&self, now_ms: u64) -> bool {
        match self.life.phase {
            Phase::Unopened => false,
            Phase::Open => true,
            Phase::Closed { at_ms } => now_ms < at_ms + CLOSED_LISTED_MS,
        }
    }

    pub(super) fn connected(&self) -> bool {
        self.life.offline == 0
    }

    pub(super) fn is_closed(&self) -> bool {
        matches!(self.life.phase, Phase::Closed { .. })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Change {
    Open,
    Close,
    Offline,
    Online,
}

/// The scenario's channel changes in time order, and what they cost on chain.
#[derive(Default)]
pub(super) struct Schedule {
    changes: Vec<(u64, usize, Change)>,
    next: usize,
    /// On-chain fees of opens and closes so far, as the bookkeeper lists them.
    pub onchain: Vec<OnchainFee>,
}

impl Schedule {
    pub fn new(scenario: &Scenario, channels: &[SimChannel]) -> Self {
        let start_ms = scenario.start * 1000;
        let at = |day: f64| start_ms + (day * DAY_MS) as u64;
        let mut changes = Vec::new();
        for (index, channel) in channels.iter().enumerate() {
            if let Some(day) = channel.spec.open_day {
                changes.push((at(day), index, Change::Open));
            }
            if let Some(day) = channel.spec.close_day {
                changes.push((at(day), index, Change::Close));
            }
        }
        for event in &scenario.events {
            if let Event::PeerOffline(offline) = event
                && offline.channel < channels.len()
            {
                let start = at(offline.start_day);
                changes.push((start, offline.channel, Change::Offline));
                let end = start + (offline.hours * HOUR_MS) as u64;
                changes.push((end, offline.channel, Change::Online));
            }
        }
        // Stable: at one instant, the scenario's order.
        changes.sort_by_key(|(at, _, _)| *at);
        Self {
            changes,
            next: 0,
            onchain: Vec::new(),
        }
    }

    fn next_at(&self) -> Option<u64> {
        self.changes.get(self.next).map(|(at, _, _)| *at)
    }
}

/// Checks what the scenario says about channel lives.
pub(super) fn validate(scenario: &Scenario, channel_count: usize) -> Result<(), String> {
    let ok = |day: f64| day.is_finite() && day >= 0.0;
    for (index, c) in scenario.channels.iter().enumerate() {
        let open = c.open_day.unwrap_or(0.0);
        let fine = ok(open) && c.close_day.is_none_or(|close| ok(close) && close > open);
        if !fine {
            return Err(format!(
                "channel {index}: open-day and close-day must be ≥ 0, close after open"
            ));
        }
    }
    for event in &scenario.events {
        if let Event::PeerOffline(offline) = event {
            if !(ok(offline.start_day) && offline.hours.is_finite() && offline.hours > 0.0) {
                return Err("peer-offline: start-day ≥ 0 and hours > 0".into());
            }
            if offline.channel >= channel_count {
                return Err(format!(
                    "event names channel {}, but there are {channel_count}",
                    offline.channel
                ));
            }
        }
    }
    Ok(())
}

impl SimNetwork {
    /// Applies the channel changes and flood arrivals due up to `until_ms` (inclusive or not),
    /// in time order, resolving held HTLCs on the way.
    pub(super) fn run_scheduled(&mut self, until_ms: u64, inclusive: bool) {
        let due = |at: Option<u64>| at.filter(|&at| at < until_ms || (inclusive && at == until_ms));
        loop {
            let change = due(self.lifecycle.next_at());
            let flood = due(self.floods.next_at());
            let at = match (change, flood) {
                (None, None) => return,
                (Some(c), Some(f)) => c.min(f),
                (Some(c), None) => c,
                (None, Some(f)) => f,
            };
            self.resolve_until(at);
            self.now_ms = self.now_ms.max(at);
            // Channel changes first at one instant: a flood meets the channel as it now is.
            if change == Some(at) {
                let (_, index, what) = self.lifecycle.changes[self.lifecycle.next];
                self.lifecycle.next += 1;
                self.apply_change(index, what);
            } else if let Some(htlc) = self.floods.pop() {
                self.route_flood(&htlc);
            }
        }
    }

    fn apply_change(&mut self, index: usize, what: Change) {
        let now_ms = self.now_ms;
        let feerate = u64::from(self.feerate_at(now_ms / 1000));
        let channel = &mut self.channels[index];
        let (vbytes, booked) = match what {
            Change::Open if channel.life.phase == Phase::Unopened => {
                channel.life.phase = Phase::Open;
                self.stats.channels_opened += 1;
                (FUNDING_VBYTES, true)
            }
            Change::Close if channel.life.phase != Phase::Unopened && !channel.is_closed() => {
                channel.life.phase = Phase::Closed { at_ms: now_ms };
                self.stats.channels_closed += 1;
                (CLOSE_VBYTES, true)
            }
            Change::Offline => {
                if channel.life.offline == 0 {
                    channel.life.offline_since_ms = now_ms;
                }
                channel.life.offline += 1;
                (0, false)
            }
            Change::Online => {
                channel.life.offline = channel.life.offline.saturating_sub(1);
                (0, false)
            }
            _ => (0, false),
        };
        let back_online = what == Change::Online && channel.life.offline == 0;
        if booked && channel.spec.opener == Opener::Local {
            // perkb is sat per 1000 vbytes: × vbytes is msat.
            let fee = feerate * vbytes;
            let account = channel_id(channel.id);
            self.stats.onchain_fees_paid = Msat::new(self.stats.onchain_fees_paid.msat() + fee);
            self.lifecycle.onchain.push(OnchainFee {
                account,
                fee_msat: i64::try_from(fee).unwrap_or(i64::MAX),
                at: now_ms / 1000,
            });
        }
        if back_online {
            // Senders saw it disabled and failed on it while it was away: with sender memory
            // their pathfinding keeps avoiding it for a while after it is back.
            self.note_unusable(index);
        }
    }

    /// Whether the sender of `candidate` tries our channel at all: not one that does not
    /// exist (yet or any more), nor, mostly, one whose peer has long been seen offline.
    pub(super) fn senders_try(&mut self, candidate: &Candidate) -> bool {
        let channel = &self.channels[candidate.channel];
        if channel.life.phase != Phase::Open {
            return false;
        }
        if channel.life.offline == 0 {
            return true;
        }
        let unseen = self.now_ms < channel.life.offline_since_ms + OFFLINE_UNSEEN_MS;
        // The failure draw is free here: an HTLC to an offline peer never goes downstream.
        let tries = unseen || candidate.fail_draw < OFFLINE_STALE_SHARE;
        if !tries {
            self.stats.lost_peer_offline += 1;
        }
        tries
    }

    /// An HTLC for a channel whose peer is offline: we fail it, `WIRE_UNKNOWN_NEXT_PEER`.
    pub(super) fn fail_offline(&mut self, inc: usize, out: usize, amount: u64, fee: u64) {
        self.stats.forwards_failed_local += 1;
        self.stats.forwards_failed_offline += 1;
        // A failure like any other local one: remembered by senders (with sender memory).
        self.note_unusable(out);
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
            resolved_ms: None,
            failure: Some(ForwardFailure {
                code: UNKNOWN_NEXT_PEER,
                reason: "WIRE_UNKNOWN_NEXT_PEER".into(),
            }),
        };
        self.forwards.create(forward);
    }

    /// What the bookkeeper lists for opens and closes made during the run, since `since`.
    pub(super) fn lifecycle_onchain_fees(&self, since: u64) -> impl Iterator<Item = OnchainFee> {
        self.lifecycle
            .onchain
            .iter()
            .filter(move |fee| fee.at >= since)
            .cloned()
    }
}

/// Builds the schedule and the flood queue of a network being made.
pub(super) fn timeline(scenario: &Scenario, channels: &[SimChannel]) -> (Schedule, FloodQueue) {
    let floods = scenario
        .events
        .iter()
        .enumerate()
        .filter_map(|(position, event)| match event {
            Event::Flood(flood) => Some((position, flood)),
            _ => None,
        });
    (
        Schedule::new(scenario, channels),
        FloodQueue::new(scenario.seed, scenario.start, floods),
    )
}
