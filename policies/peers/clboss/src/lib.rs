//! `clboss`: CLBOSS's fee setting, as a revops fee policy.
//!
//! CLBOSS prices each peer at the median fee other nodes charge to reach it, multiplied by
//! every fee modifier it runs: the fee is `median × size × balance × price-theory`, rounded,
//! at least 1 ppm. Three modifiers are reproduced here:
//!
//! - **size** (FeeModderBySize): bigger than the peer's other neighbours → a markup up to
//!   `16 − ln(neighbours)` (at least 2); smaller → down to ×0.5 ([`modifiers::size_multiplier`]).
//! - **balance** (FeeModderByBalance): the local share in bins of 0.002 BTC (4 to 50 bins),
//!   priced at the bin centre by `exp(ln 50 · (0.5 − share))`, moved with a random
//!   hysteresis ([`modifiers::next_bin`]).
//! - **price theory** (FeeModderByPriceTheory): a card game over levels ×1.2 / ×0.8 that
//!   settles on the level that earned most ([`price_theory`]).
//!
//! Written from, as facts (no code copied): ZmnSCPxj/clboss `Boss/Mod/ChannelFeeManager.cpp`
//! (modifiers multiply base and proportional fee, 0 becomes 1), `FeeModderBySize.cpp`,
//! `FeeModderByBalance.cpp`, `FeeModderByPriceTheory.cpp` (its design comment and constants:
//! 288 ten-minute ticks per card, ±2 levels), `PeerCompetitorFeeMonitor/README.md` and
//! `Main.cpp` (capacity-weighted median of the peer's incoming fees, surveyed hourly; no
//! survey, no fee change), and the CLBOSS log lines quoted in the tests.
//!
//! Approximated, because the snapshot carries less than CLBOSS reads from gossip:
//! - the median is the host's `peer.competitors.median-ppm` (unweighted, ours excluded);
//! - size compares *this channel's* capacity with a typical competitor channel
//!   (`reference-capacity-sat`) instead of ranking node capacities; the neighbour count is
//!   `competitors.channels`;
//! - the base fee is `base-msat`, not the competitors' median base fee times the modifiers;
//! - state is per channel, not per peer; a card's lifetime counts the seconds between calls
//!   while the peer is connected (CLBOSS counts ten-minute ticks);
//! - without competitor data the channel is left alone, unless `fallback-median-ppm` is set;
//! - fees are capped at `max-ppm` (the host refuses anything above 1,000,000 ppm).
#![cfg_attr(not(test), no_std)]

extern crate alloc;

mod modifiers;
mod price_theory;

use alloc::{format, string::String, vec::Vec};
use guest_support::{
    money::sat_to_msat,
    rng::Rng,
    schema::{BoolParam, IntParam, Schema},
    state::{self, Reader, Restore, Versioned, Writer},
    types::{Channel, ChannelState, FeeProposal, Param, Peer, PricingMode},
};
use price_theory::Game;

wit_bindgen::generate!({
    world: "fee-policy",
    path: "../../../wit",
    with: {
        "revops:policy/types@0.1.0": guest_support::types,
        "revops:policy/logging@0.1.0": guest_support::logging,
    },
});

guest_support::panic_handler!();

const REFERENCE_CAPACITY_SAT: IntParam = IntParam::new(
    "reference-capacity-sat",
    "Size of a typical competitor channel: a channel this big neither marks up nor discounts.",
    5_000_000,
)
.range(100_000, 1_000_000_000);
const CARD_LIFETIME_MINUTES: IntParam = IntParam::new(
    "card-lifetime-minutes",
    "How long each price level is played while the peer is connected (CLBOSS: 288 × 10 min).",
    2_880,
)
.range(10, 43_200);
const BASE_MSAT: IntParam =
    IntParam::new("base-msat", "Base fee for every channel, msat.", 1_000).range(0, 100_000);
const MAX_PPM: IntParam = IntParam::new(
    "max-ppm",
    "Highest fee proposed, ppm (the modifiers multiply without bound).",
    50_000,
)
.range(1, 1_000_000);
const FALLBACK_MEDIAN_PPM: IntParam = IntParam::new(
    "fallback-median-ppm",
    "Median used when no competitor fees are known; 0 leaves such channels alone (CLBOSS).",
    0,
)
.range(0, 100_000);
const SIZE_MODIFIER: BoolParam = BoolParam::new("size-modifier", "Apply FeeModderBySize.", true);
const BALANCE_MODIFIER: BoolParam =
    BoolParam::new("balance-modifier", "Apply FeeModderByBalance.", true);
const PRICE_THEORY: BoolParam =
    BoolParam::new("price-theory", "Apply FeeModderByPriceTheory.", true);
const SCHEMA: Schema = Schema::new(&[
    &REFERENCE_CAPACITY_SAT,
    &CARD_LIFETIME_MINUTES,
    &BASE_MSAT,
    &MAX_PPM,
    &FALLBACK_MEDIAN_PPM,
    &SIZE_MODIFIER,
    &BALANCE_MODIFIER,
    &PRICE_THEORY,
]);

struct Settings {
    reference_msat: u64,
    lifetime_secs: u64,
    base_msat: u32,
    max_ppm: u32,
    fallback_median_ppm: u32,
    size: bool,
    balance: bool,
    price_theory: bool,
}

impl Settings {
    fn read(params: &[Param]) -> Self {
        Self {
            reference_msat: sat_to_msat(REFERENCE_CAPACITY_SAT.get_u64(params)),
            lifetime_secs: CARD_LIFETIME_MINUTES.get_u64(params) * 60,
            base_msat: BASE_MSAT.get_u32(params),
            max_ppm: MAX_PPM.get_u32(params),
            fallback_median_ppm: FALLBACK_MEDIAN_PPM.get_u32(params),
            size: SIZE_MODIFIER.get(params),
            balance: BALANCE_MODIFIER.get(params),
            price_theory: PRICE_THEORY.get(params),
        }
    }
}

/// The balance bin a channel sits in, and the capacity it was binned for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Bin {
    bin: u16,
    bins: u16,
    capacity_msat: u64,
}

/// What one channel remembers between calls.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Memory {
    bin: Option<Bin>,
    game: Game,
    /// `fees-earned-msat-total` at the last call: the next call's earnings are the increment.
    last_fees_total: Option<u64>,
    last_seen_secs: Option<u64>,
}

impl Versioned for Memory {
    const VERSION: u8 = 1;

    fn write(&self, w: &mut Writer) {
        w.bool(self.bin.is_some());
        if let Some(b) = self.bin {
            w.u16(b.bin).u16(b.bins).u64(b.capacity_msat);
        }
        self.game.write(w);
        w.opt_u64(self.last_fees_total).opt_u64(self.last_seen_secs);
    }

    fn read(_version: u8, r: &mut Reader<'_>) -> Option<Self> {
        let bin = if r.bool()? {
            Some(Bin {
                bin: r.u16()?,
                bins: r.u16()?,
                capacity_msat: r.u64()?,
            })
        } else {
            None
        };
        Some(Self {
            bin,
            game: Game::read(r)?,
            last_fees_total: r.opt_u64()?,
            last_seen_secs: r.opt_u64()?,
        })
    }
}

/// The multipliers applied to one channel's median.
struct Modifiers {
    size: f64,
    balance: f64,
    level: i32,
}

impl Modifiers {
    fn product(&self) -> f64 {
        self.size * self.balance * price_theory::multiplier(self.level)
    }
}

/// `median × modifiers`, rounded, 1 at least (CLBOSS turns 0 into 1), `max_ppm` at most.
fn fee_ppm(median_ppm: u32, modifiers: &Modifiers, max_ppm: u32) -> u32 {
    let fee = libm::round(f64::from(median_ppm) * modifiers.product());
    (fee.min(f64::from(max_ppm)) as u32).max(1)
}

/// Advances one channel's memory to `now` and returns its modifiers.
fn update(
    memory: &mut Memory,
    channel: &Channel,
    peer: Option<&Peer>,
    s: &Settings,
    now: u64,
    rng: &mut Rng,
) -> Modifiers {
    let total = channel.flow.fees_earned_msat_total;
    // A lower total is a host restart: a new baseline, nothing earned.
    let earned = memory
        .last_fees_total
        .filter(|&last| total >= last)
        .map_or(0, |last| total - last);
    let connected = peer.is_some_and(|p| p.connected);
    let elapsed = memory.last_seen_secs.map_or(0, |t| now.saturating_sub(t));
    memory.last_fees_total = Some(total);
    memory.last_seen_secs = Some(now);
    memory
        .game
        .advance(if connected { elapsed } else { 0 }, earned);
    let level = if s.price_theory {
        memory.game.level(s.lifetime_secs, rng)
    } else {
        0
    };

    let capacity = channel.capacity_msat.max(1);
    let bin = match memory.bin {
        // A resized channel (splice) is binned afresh, as CLBOSS does.
        Some(b) if b.capacity_msat == capacity => Bin {
            bin: modifiers::next_bin(b.bin, channel.local_msat, capacity, b.bins, rng),
            ..b
        },
        _ => {
            let bins = modifiers::bin_count(capacity);
            Bin {
                bin: modifiers::starting_bin(channel.local_msat, capacity, bins),
                bins,
                capacity_msat: capacity,
            }
        }
    };
    memory.bin = Some(bin);
    let balance = if s.balance {
        modifiers::bin_multiplier(bin.bin, bin.bins)
    } else {
        1.0
    };

    let size = match peer.and_then(|p| p.competitors) {
        Some(c) if s.size => modifiers::size_multiplier(
            modifiers::size_position(capacity, s.reference_msat),
            c.channels,
        ),
        _ => 1.0,
    };
    Modifiers {
        size,
        balance,
        level,
    }
}

struct Clboss;

impl Guest for Clboss {
    fn describe() -> PolicyInfo {
        PolicyInfo {
            name: "clboss".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description:
                "CLBOSS's fees: competitor median × size, balance and price-theory modifiers."
                    .into(),
            params: SCHEMA.specs(),
        }
    }

    fn propose_fees(ctx: Context, snapshot: Snapshot) -> Result<FeeDecision, String> {
        let s = Settings::read(&ctx.params);
        let mut restore = Restore::new("channel state");
        let mut proposals = Vec::new();
        let mut channel_states = Vec::new();
        for channel in &snapshot.channels {
            let blob = state::channel_blob(&snapshot.channel_states, channel.id);
            let mut memory: Memory = restore.load(blob);
            let peer = snapshot.peers.get(channel.peer as usize);
            let mut rng = Rng::for_key(ctx.seed, channel.id);
            let m = update(&mut memory, channel, peer, &s, ctx.now_secs, &mut rng);
            channel_states.push(ChannelState {
                id: channel.id,
                state: state::save(&memory),
            });
            let median = peer
                .and_then(|p| p.competitors)
                .map(|c| c.median_ppm)
                .or(Some(s.fallback_median_ppm).filter(|&f| f > 0));
            // No median, no fee (CLBOSS waits for its survey); a probe is the host's.
            let Some(median) = median.filter(|_| !channel.probe_active) else {
                continue;
            };
            proposals.push(FeeProposal {
                channel: channel.id,
                fee_ppm: fee_ppm(median, &m, s.max_ppm),
                fee_base_msat: s.base_msat,
                mode: PricingMode::Normal,
                reason: format!(
                    "clboss: median {median} x size {:.2} x balance {:.2} x level {} ({:.2})",
                    m.size,
                    m.balance,
                    m.level,
                    price_theory::multiplier(m.level)
                ),
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

export!(Clboss);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_is_consistent() {
        assert_eq!(SCHEMA.check(), Ok(()));
        let s = Settings::read(&[]);
        assert_eq!(s.lifetime_secs, 2 * 86_400, "288 ten-minute ticks");
        assert_eq!(s.reference_msat, 5_000_000_000);
    }

    #[test]
    fn the_fee_is_the_median_times_every_modifier() {
        let neutral = Modifiers {
            size: 1.0,
            balance: 1.0,
            level: 0,
        };
        assert_eq!(fee_ppm(200, &neutral, 50_000), 200);
        let marked = Modifiers {
            size: 2.0,
            balance: 0.5,
            level: 1,
        };
        assert_eq!(fee_ppm(200, &marked, 50_000), 240, "200 × 2 × 0.5 × 1.2");
        let tiny = Modifiers {
            size: 0.5,
            balance: 0.143,
            level: -2,
        };
        assert_eq!(fee_ppm(1, &tiny, 50_000), 1, "0 becomes 1");
        assert_eq!(fee_ppm(40_000, &marked, 50_000), 48_000);
        assert_eq!(fee_ppm(50_000, &marked, 50_000), 50_000, "capped");
    }

    #[test]
    fn memory_round_trips() {
        let mut memory = Memory {
            bin: Some(Bin {
                bin: 3,
                bins: 25,
                capacity_msat: 5_000_000_000,
            }),
            last_fees_total: Some(12),
            last_seen_secs: Some(1_700_000_000),
            ..Memory::default()
        };
        memory.game.level(600, &mut Rng::new(3));
        let blob = state::save(&memory);
        assert_eq!(state::decode::<Memory>(&blob), Ok(memory));
    }
}
