//! The scenario fields of the market's demand side (`[market.seasonality]`,
//! `[[channel.competitor]]`, `[market.sender-memory]`, `[market.gossip-delay]`, a demand
//! shift's direction), with their defaults; `scenario` re-exports them. Documented in
//! `docs/SCENARIOS.md`.

use serde::{Deserialize, Serialize};

pub(super) fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

/// Demand multipliers by hour of day (24, UTC) and day of week (7, Monday first), each
/// normalised to a mean of 1: they move payments in time, not the total.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Seasonality {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hourly: Vec<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weekly: Vec<f64>,
}

/// How a competing channel sets its fee.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CompetitorPolicy {
    /// Its fee never changes.
    #[default]
    Static,
    /// Undercuts our announced fee when we carry most of the route's traffic; drifts back
    /// to its own fee when we do not.
    Undercut,
    /// Every `period-hours`, for `war-hours`, charges `war-factor` × its fee.
    PriceWar,
    /// Moves towards the median fee of the route (ours as announced and the others').
    FollowMedian,
}

/// One channel competing with ours for the same destinations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct CompetitorSpec {
    #[serde(default)]
    pub policy: CompetitorPolicy,
    /// Its own fee (default: `ppm-factor` × the channel's `competitor-ppm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ppm: Option<u32>,
    #[serde(default = "one")]
    pub ppm_factor: f64,
    #[serde(default)]
    pub base_msat: u32,
    /// Its share of the alternative routes (relative to the route's other competitors).
    #[serde(default = "one")]
    pub weight: f64,
    /// What it can carry towards the destination (default: unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liquidity_sat: Option<u64>,
    /// Hours to refill from empty to full (payments the other way, its own rebalancing).
    #[serde(default = "default_refill_hours")]
    pub refill_hours: f64,
    /// How often it looks at the market (undercut, follow-median).
    #[serde(default = "one")]
    pub react_hours: f64,
    /// Undercut: by this share below our announced fee, when our share of the route's
    /// senders is above `undercut-threshold`; never below `floor-ppm`.
    #[serde(default = "default_undercut_step")]
    pub undercut_step: f64,
    #[serde(default = "default_undercut_threshold")]
    pub undercut_threshold: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor_ppm: Option<u32>,
    /// Price war: period, length and price factor; `phase-hours` shifts the first war.
    #[serde(default = "default_period_hours")]
    pub period_hours: f64,
    #[serde(default = "default_war_hours")]
    pub war_hours: f64,
    #[serde(default = "default_war_factor")]
    pub war_factor: f64,
    #[serde(default)]
    pub phase_hours: f64,
    /// Follow-median: the share of the gap to the median closed at each look.
    #[serde(default = "default_follow_rate")]
    pub follow_rate: f64,
}

fn one() -> f64 {
    1.0
}
fn default_refill_hours() -> f64 {
    24.0
}
fn default_undercut_step() -> f64 {
    0.1
}
fn default_undercut_threshold() -> f64 {
    0.5
}
fn default_period_hours() -> f64 {
    168.0
}
fn default_war_hours() -> f64 {
    24.0
}
fn default_war_factor() -> f64 {
    0.3
}
fn default_follow_rate() -> f64 {
    0.5
}

/// Pathfinding penalises a channel that failed: after a local failure (no liquidity, no
/// slot, fee too low) or while it was unusable, fewer senders pick it, recovering over hours.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SenderMemory {
    /// Share of senders a failure turns away right after it (compounding, below 1).
    #[serde(default = "default_failure_penalty")]
    pub failure_penalty: f64,
    /// Half-life of that penalty.
    #[serde(default = "default_memory_half_life")]
    pub half_life_hours: f64,
}

fn default_failure_penalty() -> f64 {
    0.3
}
fn default_memory_half_life() -> f64 {
    2.0
}

/// A fee broadcast reaches senders after a delay drawn log-uniformly per broadcast; an HTLC
/// priced with an older, lower fee fails with `WIRE_FEE_INSUFFICIENT` once our node stops
/// accepting the old fee (`enforce-secs` after the change, CLN's `enforcedelay`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct GossipDelay {
    #[serde(default = "default_delay_min")]
    pub min_minutes: f64,
    #[serde(default = "default_delay_max")]
    pub max_minutes: f64,
    #[serde(default = "default_enforce_secs")]
    pub enforce_secs: u64,
}

fn default_delay_min() -> f64 {
    2.0
}
fn default_delay_max() -> f64 {
    60.0
}
fn default_enforce_secs() -> u64 {
    600
}

/// Which payments a demand shift moves: those leaving through the channel, those entering
/// through it, or both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    #[default]
    Out,
    In,
    Both,
}

impl Direction {
    pub fn is_out(&self) -> bool {
        *self == Self::Out
    }

    pub fn outbound(self) -> bool {
        matches!(self, Self::Out | Self::Both)
    }

    pub fn inbound(self) -> bool {
        matches!(self, Self::In | Self::Both)
    }
}
