//! Short channel ids: `BLOCKxTXxOUT` for people, a packed u64 on the hot path (BOLT 7).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::{fmt, str::FromStr};

/// A short channel id, stored packed as `block << 40 | tx_index << 16 | output`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ShortChannelId(u64);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid short channel id {input:?}: expected BLOCKxTXxOUTPUT, e.g. 103x1x0")]
pub struct ParseScidError {
    input: String,
}

const BLOCK_MAX: u64 = (1 << 24) - 1;
const TX_MAX: u64 = (1 << 24) - 1;
const OUTPUT_MAX: u64 = (1 << 16) - 1;

impl ShortChannelId {
    /// `None` if a component is out of its BOLT 7 range.
    pub fn new(block: u64, tx_index: u64, output: u64) -> Option<Self> {
        (block <= BLOCK_MAX && tx_index <= TX_MAX && output <= OUTPUT_MAX)
            .then_some(Self(block << 40 | tx_index << 16 | output))
    }

    pub const fn from_u64(packed: u64) -> Self {
        Self(packed)
    }

    pub const fn as_u64(self) -> u64 {
        self.0
    }

    pub const fn block(self) -> u64 {
        self.0 >> 40
    }

    pub const fn tx_index(self) -> u64 {
        (self.0 >> 16) & TX_MAX
    }

    pub const fn output(self) -> u64 {
        self.0 & OUTPUT_MAX
    }
}

impl fmt::Display for ShortChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}x{}", self.block(), self.tx_index(), self.output())
    }
}

impl FromStr for ShortChannelId {
    type Err = ParseScidError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let error = || ParseScidError {
            input: s.to_owned(),
        };
        let mut parts = s.split('x').map(|part| part.parse::<u64>());
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(Ok(block)), Some(Ok(tx)), Some(Ok(output)), None) => {
                Self::new(block, tx, output).ok_or_else(error)
            }
            _ => Err(error()),
        }
    }
}

impl Serialize for ShortChannelId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ShortChannelId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_text_and_u64() {
        let scid: ShortChannelId = "103x1x0".parse().unwrap();
        assert_eq!((scid.block(), scid.tx_index(), scid.output()), (103, 1, 0));
        assert_eq!(scid.to_string(), "103x1x0");
        assert_eq!(ShortChannelId::from_u64(scid.as_u64()), scid);
        assert_eq!(scid.as_u64(), 103 << 40 | 1 << 16);
    }

    #[test]
    fn rejects_malformed_and_out_of_range() {
        for bad in [
            "",
            "1x2",
            "1x2x3x4",
            "ax1x1",
            "16777216x0x0",
            "1x1x65536",
            "-1x0x0",
        ] {
            assert!(bad.parse::<ShortChannelId>().is_err(), "{bad} accepted");
        }
    }
}
