//! The three kinds of policy, one WIT world each.

use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyKind {
    Fee,
    Rebalance,
    Payout,
}

impl PolicyKind {
    pub const ALL: [PolicyKind; 3] = [PolicyKind::Fee, PolicyKind::Rebalance, PolicyKind::Payout];

    /// The WIT world a component of this kind must implement.
    pub const fn world(self) -> &'static str {
        match self {
            PolicyKind::Fee => "fee-policy",
            PolicyKind::Rebalance => "rebalance-policy",
            PolicyKind::Payout => "payout-policy",
        }
    }

    /// The decision function that world exports.
    pub const fn decision_export(self) -> &'static str {
        match self {
            PolicyKind::Fee => "propose-fees",
            PolicyKind::Rebalance => "propose-rebalances",
            PolicyKind::Payout => "propose-payouts",
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            PolicyKind::Fee => "fee",
            PolicyKind::Rebalance => "rebalance",
            PolicyKind::Payout => "payout",
        }
    }
}

impl fmt::Display for PolicyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown policy kind {0:?}: expected fee, rebalance or payout")]
pub struct UnknownPolicyKind(String);

impl FromStr for PolicyKind {
    type Err = UnknownPolicyKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PolicyKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s || kind.world() == s)
            .ok_or_else(|| UnknownPolicyKind(s.to_owned()))
    }
}
