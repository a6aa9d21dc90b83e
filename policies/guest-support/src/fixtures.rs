//! Snapshot values for policies' unit tests: a quiet channel with every field set, so a test
//! writes only what it is about (`Channel { local_msat: 0, ..fixtures::channel(1, 0, 1_000, 500, 100) }`).

use crate::types::{Channel, FlowStats, Opener, ProfitabilityClass, Scid};

/// No forwarding at all.
pub fn no_flow() -> FlowStats {
    FlowStats {
        in_msat_1d: 0,
        out_msat_1d: 0,
        fees_earned_msat_1d: 0,
        forwards_out_1d: 0,
        in_msat_7d: 0,
        out_msat_7d: 0,
        fees_earned_msat_7d: 0,
        forwards_out_7d: 0,
        forwards_in_7d: 0,
        out_msat_total: 0,
        fees_earned_msat_total: 0,
        forwards_out_total: 0,
        last_forward_age_secs: None,
        failed_out_1d: 0,
        failed_out_msat_1d: 0,
        failed_out_7d: 0,
        failed_out_msat_7d: 0,
    }
}

/// An active channel of `capacity_msat` with `local_msat` on our side at `fee_ppm` (base 1 sat),
/// just opened by us, never broadcast by revops, unanalysed and without flow.
pub fn channel(id: Scid, peer: u32, capacity_msat: u64, local_msat: u64, fee_ppm: u32) -> Channel {
    Channel {
        id,
        peer,
        capacity_msat,
        local_msat,
        remote_msat: capacity_msat.saturating_sub(local_msat),
        fee_base_msat: 1_000,
        fee_ppm,
        htlc_min_msat: 1,
        htlc_max_msat: capacity_msat,
        max_accepted_htlcs: 483,
        opener: Opener::Local,
        age_secs: 0,
        active: true,
        last_broadcast_ppm: None,
        last_broadcast_secs: None,
        probe_active: false,
        class: ProfitabilityClass::Unknown,
        profit: None,
        flow: no_flow(),
    }
}
