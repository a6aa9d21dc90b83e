//! What a policy proposes. Proposals are wishes: the host's guards decide what happens.

use crate::{
    money::{Msat, Ppm},
    scid::ShortChannelId,
};
use serde::{Deserialize, Serialize};

/// Which precedence rule produced a fee (spec: fee cycle).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PricingMode {
    Normal,
    Congestion,
    Probe,
    FireSale,
    Hold,
}

impl PricingMode {
    pub const fn as_str(self) -> &'static str {
        match self {
            PricingMode::Normal => "normal",
            PricingMode::Congestion => "congestion",
            PricingMode::Probe => "probe",
            PricingMode::FireSale => "fire-sale",
            PricingMode::Hold => "hold",
        }
    }

    /// Congestion, probe and fire sale: prices set for a cause, to be left when it ends.
    pub const fn is_protective(self) -> bool {
        matches!(
            self,
            PricingMode::Congestion | PricingMode::Probe | PricingMode::FireSale
        )
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            PricingMode::Normal,
            PricingMode::Congestion,
            PricingMode::Probe,
            PricingMode::FireSale,
            PricingMode::Hold,
        ]
        .into_iter()
        .find(|mode| mode.as_str() == text)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FeeProposal {
    pub channel: ShortChannelId,
    pub fee_ppm: Ppm,
    pub fee_base: Msat,
    pub mode: PricingMode,
    pub reason: String,
}

/// New state a policy returned: `node` replaces the node blob; each listed channel's blob is
/// replaced, unlisted channels keep theirs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StateUpdate {
    pub node: Vec<u8>,
    pub channels: Vec<(ShortChannelId, Vec<u8>)>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FeeDecision {
    pub proposals: Vec<FeeProposal>,
    pub state: StateUpdate,
}

#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RebalanceKind {
    #[default]
    Normal,
    /// A deliberate small loss to learn whether a stagnant channel can route (spec: defibrillator).
    Diagnostic,
}

impl RebalanceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RebalanceKind::Normal => "normal",
            RebalanceKind::Diagnostic => "diagnostic",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RebalanceProposal {
    pub source: ShortChannelId,
    pub destination: ShortChannelId,
    pub amount: Msat,
    pub max_fee: Msat,
    pub kind: RebalanceKind,
    pub reason: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RebalanceDecision {
    pub proposals: Vec<RebalanceProposal>,
    pub state: StateUpdate,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PayoutLine {
    pub investor_id: String,
    pub amount: Msat,
    pub reason: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PayoutDecision {
    pub lines: Vec<PayoutLine>,
    pub withheld: Msat,
    pub node_state: Vec<u8>,
}
