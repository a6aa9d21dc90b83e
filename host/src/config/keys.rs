//! Every configuration key: its type, range, default and meaning. One table serves
//! validation, `revenue-config get` and the documentation.

use super::ConfigError;
use crate::scid::ShortChannelId;
use serde_json::Value;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ValueKind {
    Integer { min: u64, max: u64 },
    Boolean,
}

pub struct KeySpec {
    pub name: &'static str,
    pub kind: ValueKind,
    pub default: u64,
    pub description: &'static str,
    /// Takes `@<short channel id>` or `@<node id>` to apply to one channel or peer.
    pub scoped: bool,
}

impl KeySpec {
    /// The default as an operator writes it (`true`/`false` for switches).
    pub fn default_text(&self) -> String {
        match self.kind {
            ValueKind::Boolean => (self.default != 0).to_string(),
            ValueKind::Integer { .. } => self.default.to_string(),
        }
    }
}

const fn int(
    name: &'static str,
    min: u64,
    max: u64,
    default: u64,
    description: &'static str,
) -> KeySpec {
    KeySpec {
        name,
        kind: ValueKind::Integer { min, max },
        default,
        description,
        scoped: false,
    }
}

pub const KEYS: &[KeySpec] = &[
    int(
        "fee.interval-secs",
        5,
        86_400,
        600,
        "Seconds between fee cycles.",
    ),
    KeySpec {
        scoped: true,
        ..int(
            "fee.min-ppm",
            0,
            1_000_000,
            1,
            "Fee floor, ppm (0 is only ever used by a zero-fee probe).",
        )
    },
    KeySpec {
        scoped: true,
        ..int(
            "fee.max-ppm",
            1,
            1_000_000,
            2_500,
            "Fee ceiling, ppm (at least 1 at every scope: a ceiling never switches off).",
        )
    },
    int(
        "fee.max-base-msat",
        0,
        100_000_000,
        1_000,
        "Highest base fee revops will set, msat.",
    ),
    int(
        "fee.max-step-pct",
        1,
        1_000,
        50,
        "Largest change per broadcast in normal pricing, % of the last broadcast fee.",
    ),
    int(
        "fee.max-step-floor-ppm",
        0,
        1_000_000,
        50,
        "A step of this many ppm is always allowed, however low the fee.",
    ),
    int(
        "fee.hysteresis-pct",
        0,
        100,
        5,
        "Changes within this % of the last broadcast fee are not broadcast (gossip hysteresis).",
    ),
    int(
        "fee.max-broadcasts-per-day",
        1,
        288,
        4,
        "Most fee broadcasts per channel in any 24 hours (leaving a protective mode has its own allowance).",
    ),
    int(
        "fee.max-mode-exits-per-day",
        0,
        24,
        2,
        "Broadcasts per channel in any 24 hours that leave congestion, probe or fire sale for normal pricing past the daily limit: a protective price never outlives its cause by more than a cycle, and toggling stays bounded (every exit follows an entry, which counts against the daily limit).",
    ),
    int(
        "fee.min-broadcast-interval-secs",
        0,
        86_400,
        3_600,
        "Least time between two broadcasts for a channel (entering or leaving congestion, probe or fire sale is exempt).",
    ),
    int(
        "rebalance.interval-secs",
        5,
        604_800,
        3_600,
        "Seconds between scheduled rebalance cycles (they run only while a rebalance policy is loaded).",
    ),
    int(
        "rebalance.daily-budget-sat",
        0,
        100_000_000,
        5_000,
        "Rebalance fees revops may spend in any 24 h (more if 30 % of the last 24 h revenue is more), sat.",
    ),
    int(
        "rebalance.max-fee-ppm",
        1,
        100_000,
        1_000,
        "Most a single rebalance may cost, ppm of its amount.",
    ),
    int(
        "rebalance.max-concurrent",
        1,
        16,
        1,
        "Rebalances in flight at once.",
    ),
    int(
        "rebalance.cooldown-secs",
        0,
        604_800,
        3_600,
        "Least time between two rebalances into the same channel.",
    ),
    int(
        "rebalance.backoff-secs",
        0,
        86_400,
        600,
        "Wait after a failed rebalance; doubles with each failure in a row.",
    ),
    int(
        "rebalance.ping-pong-secs",
        0,
        2_592_000,
        86_400,
        "No move from A to B within this long of a move from B to A.",
    ),
    int(
        "rebalance.diagnostic-max-fee-sat",
        0,
        100_000,
        100,
        "Most one diagnostic rebalance into a stagnant channel may cost, sat (0 turns the defibrillator's rebalances off).",
    ),
    int(
        "rebalance.wait-secs",
        1,
        600,
        60,
        "How long to wait for a rebalance payment before leaving it pending.",
    ),
    int(
        "lds.min-payout-sat",
        1,
        10_000_000,
        10,
        "Smallest investor payout, sat; smaller lines are carried to the next period.",
    ),
    int(
        "lds.snapshot-interval-secs",
        60,
        86_400,
        3_600,
        "Seconds between snapshots of investor balances (the 72 h time-weighted averages rest on them).",
    ),
    KeySpec {
        kind: ValueKind::Boolean,
        ..int(
            "dry-run",
            0,
            1,
            0,
            "Decide and record, but change nothing on the node.",
        )
    },
];

/// The spec of `key`, which may carry an `@scope` suffix.
pub fn spec_for(key: &str) -> Result<&'static KeySpec, ConfigError> {
    let (name, scope) = split_scope(key);
    let spec = KEYS
        .iter()
        .find(|spec| spec.name == name)
        .ok_or_else(|| ConfigError::UnknownKey(key.to_owned()))?;
    if let Some(scope) = scope {
        if !spec.scoped {
            return Err(ConfigError::NotScoped {
                key: key.to_owned(),
            });
        }
        Scope::parse(scope)?;
    }
    Ok(spec)
}

pub fn split_scope(key: &str) -> (&str, Option<&str>) {
    match key.split_once('@') {
        Some((name, scope)) => (name, Some(scope)),
        None => (key, None),
    }
}

/// What a scoped key applies to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    Channel(ShortChannelId),
    Peer(String),
}

impl Scope {
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        if let Ok(channel) = text.parse::<ShortChannelId>() {
            return Ok(Scope::Channel(channel));
        }
        let is_node_id = text.len() == 66 && text.bytes().all(|b| b.is_ascii_hexdigit());
        if is_node_id {
            return Ok(Scope::Peer(text.to_ascii_lowercase()));
        }
        Err(ConfigError::BadScope {
            scope: text.to_owned(),
        })
    }
}

/// Checks `value` against the key's type and range, accepting the string form a command line
/// gives ("25", "true"), and returns it in canonical JSON form.
pub fn normalize(key: &str, value: &Value) -> Result<Value, ConfigError> {
    let spec = spec_for(key)?;
    let invalid = |problem: String| ConfigError::InvalidValue {
        key: key.to_owned(),
        problem,
    };
    let value = match value {
        Value::String(text) => serde_json::from_str(text).unwrap_or_else(|_| value.clone()),
        other => other.clone(),
    };
    match spec.kind {
        ValueKind::Integer { min, max } => {
            let number = value.as_u64().ok_or_else(|| {
                invalid(format!(
                    "expected a whole number in [{min}, {max}], got {}",
                    crate::text::brief(&value)
                ))
            })?;
            if !(min..=max).contains(&number) {
                return Err(invalid(format!("{number} is outside [{min}, {max}]")));
            }
            Ok(Value::from(number))
        }
        ValueKind::Boolean => match value {
            Value::Bool(b) => Ok(Value::Bool(b)),
            other => Err(invalid(format!(
                "expected true or false, got {}",
                crate::text::brief(&other)
            ))),
        },
    }
}
