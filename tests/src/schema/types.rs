//! CLN's own schema types (`rpc-schema-draft.json`'s `simpleTypes`) beyond JSON Schema's, as
//! lightningd's parameter parsers take them in requests and as it prints them in answers.

use serde_json::Value;

/// Which way a value travels: requests take amounts as strings with units, answers print
/// them as integers of msat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Request,
    Response,
}

/// A `type` a schema names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    Array,
    Boolean,
    Integer,
    Null,
    Number,
    Object,
    String,
    Hex,
    /// 32 bytes of hex (`hash`, `secret`, `txid`).
    Hex32(&'static str),
    U64,
    U32,
    U16,
    U8,
    Pubkey,
    Sat,
    SatOrAll,
    Msat,
    MsatOrAll,
    MsatOrAny,
    Currency,
    ShortChannelId,
    ShortChannelIdDir,
    Outpoint,
    Feerate,
}

impl Type {
    /// The type called `name`, or `None` for one these files do not use (`signature`,
    /// `bip340sig`, `outputdesc`): a schema naming it fails to load rather than pass unchecked.
    pub fn named(name: &str) -> Option<Type> {
        Some(match name {
            "array" => Type::Array,
            "boolean" => Type::Boolean,
            "integer" => Type::Integer,
            "null" => Type::Null,
            "number" => Type::Number,
            "object" => Type::Object,
            "string" => Type::String,
            "hex" => Type::Hex,
            "hash" => Type::Hex32("hash"),
            "secret" => Type::Hex32("secret"),
            "txid" => Type::Hex32("txid"),
            "u64" => Type::U64,
            "u32" => Type::U32,
            "u16" => Type::U16,
            "u8" => Type::U8,
            "pubkey" => Type::Pubkey,
            "sat" => Type::Sat,
            "sat_or_all" => Type::SatOrAll,
            "msat" => Type::Msat,
            "msat_or_all" => Type::MsatOrAll,
            "msat_or_any" => Type::MsatOrAny,
            "currency" => Type::Currency,
            "short_channel_id" => Type::ShortChannelId,
            "short_channel_id_dir" => Type::ShortChannelIdDir,
            "outpoint" => Type::Outpoint,
            "feerate" => Type::Feerate,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Type::Array => "array",
            Type::Boolean => "boolean",
            Type::Integer => "integer",
            Type::Null => "null",
            Type::Number => "number",
            Type::Object => "object",
            Type::String => "string",
            Type::Hex => "hex",
            Type::Hex32(name) => name,
            Type::U64 => "u64",
            Type::U32 => "u32",
            Type::U16 => "u16",
            Type::U8 => "u8",
            Type::Pubkey => "pubkey",
            Type::Sat => "sat",
            Type::SatOrAll => "sat_or_all",
            Type::Msat => "msat",
            Type::MsatOrAll => "msat_or_all",
            Type::MsatOrAny => "msat_or_any",
            Type::Currency => "currency",
            Type::ShortChannelId => "short_channel_id",
            Type::ShortChannelIdDir => "short_channel_id_dir",
            Type::Outpoint => "outpoint",
            Type::Feerate => "feerate",
        }
    }

    pub fn admits(self, value: &Value, side: Side) -> bool {
        match self {
            Type::Array => value.is_array(),
            Type::Boolean => value.is_boolean(),
            Type::Integer => is_integer(value),
            Type::Null => value.is_null(),
            Type::Number => value.is_number(),
            Type::Object => value.is_object(),
            Type::String => value.is_string(),
            Type::Hex => value.as_str().is_some_and(is_hex),
            Type::Hex32(_) => value.as_str().is_some_and(|s| s.len() == 64 && is_hex(s)),
            Type::U64 => value.as_u64().is_some(),
            Type::U32 => unsigned_below(value, 1 << 32),
            Type::U16 => unsigned_below(value, 1 << 16),
            Type::U8 => unsigned_below(value, 1 << 8),
            Type::Pubkey => value.as_str().is_some_and(is_pubkey),
            Type::Sat | Type::Msat => is_amount(value, side),
            Type::SatOrAll | Type::MsatOrAll => value == "all" || is_amount(value, side),
            Type::MsatOrAny => value == "any" || is_amount(value, side),
            Type::Currency => value
                .as_str()
                .is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase())),
            Type::ShortChannelId => value.as_str().is_some_and(is_short_channel_id),
            Type::ShortChannelIdDir => value.as_str().is_some_and(|s| {
                s.rsplit_once('/').is_some_and(|(scid, dir)| {
                    (dir == "0" || dir == "1") && is_short_channel_id(scid)
                })
            }),
            Type::Outpoint => value.as_str().is_some_and(|s| {
                s.split_once(':').is_some_and(|(txid, vout)| {
                    txid.len() == 64 && is_hex(txid) && is_decimal_below(vout, 1 << 32)
                })
            }),
            Type::Feerate => value.as_str().is_some_and(is_feerate),
        }
    }
}

/// An integer in JSON Schema's sense: a number without a fraction (`2.0` counts).
fn is_integer(value: &Value) -> bool {
    value.is_i64()
        || value.is_u64()
        || value
            .as_f64()
            .is_some_and(|f| f.is_finite() && f.fract() == 0.0)
}

fn unsigned_below(value: &Value, limit: u64) -> bool {
    value.as_u64().is_some_and(|n| n < limit)
}

fn is_hex(text: &str) -> bool {
    text.len().is_multiple_of(2) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A compressed SEC1 public key: 33 bytes starting 02 or 03.
fn is_pubkey(text: &str) -> bool {
    text.len() == 66 && is_hex(text) && (text.starts_with("02") || text.starts_with("03"))
}

fn is_decimal_below(text: &str, limit: u64) -> bool {
    !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && text.parse::<u64>().is_ok_and(|n| n < limit)
}

/// `BLOCKxTXxOUT` with BOLT 7's widths: 3, 3 and 2 bytes.
fn is_short_channel_id(text: &str) -> bool {
    let parts: Vec<&str> = text.split('x').collect();
    matches!(parts.as_slice(), [block, tx, out]
        if is_decimal_below(block, 1 << 24) && is_decimal_below(tx, 1 << 24) && is_decimal_below(out, 1 << 16))
}

/// A feerate name or a number with its unit (`1000perkw`).
fn is_feerate(text: &str) -> bool {
    const NAMES: [&str; 12] = [
        "urgent",
        "normal",
        "slow",
        "minimum",
        "opening",
        "mutual_close",
        "unilateral_close",
        "delayed_to_us",
        "htlc_resolution",
        "penalty",
        "min_acceptable",
        "max_acceptable",
    ];
    NAMES.contains(&text)
        || ["perkw", "perkb"].iter().any(|unit| {
            text.strip_suffix(unit)
                .is_some_and(|n| is_decimal_below(n, u64::MAX))
        })
}

/// An amount: in an answer a JSON integer of msat; in a request also a string of a whole
/// number ending in `msat` or `sat`, a number with up to three decimals ending in `sat`, or
/// one with 1 to 11 decimals ending in `btc` (the wording of CLN's schemas).
fn is_amount(value: &Value, side: Side) -> bool {
    if value.as_u64().is_some() {
        return true;
    }
    let Some(text) = value.as_str().filter(|_| side == Side::Request) else {
        return false;
    };
    let decimal = |number: &str, max_decimals: usize| match number.split_once('.') {
        None => is_decimal_below(number, u64::MAX),
        Some((whole, fraction)) => {
            is_decimal_below(whole, u64::MAX)
                && (1..=max_decimals).contains(&fraction.len())
                && fraction.bytes().all(|b| b.is_ascii_digit())
        }
    };
    if let Some(number) = text.strip_suffix("msat") {
        decimal(number, 0)
    } else if let Some(number) = text.strip_suffix("sat") {
        decimal(number, 3)
    } else if let Some(number) = text.strip_suffix("btc") {
        decimal(number, 11)
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn amounts_take_units_in_requests_only() {
        for text in ["1000msat", "1sat", "1.001sat", "0.00000001btc"] {
            assert!(Type::Msat.admits(&json!(text), Side::Request), "{text}");
            assert!(!Type::Msat.admits(&json!(text), Side::Response), "{text}");
        }
        for text in ["1000", "-1msat", "1.5msat", "1.0001sat", "sat", "1 sat"] {
            assert!(!Type::Msat.admits(&json!(text), Side::Request), "{text}");
        }
        assert!(Type::Msat.admits(&json!(18_446_744_073_709_551_615u64), Side::Response));
        assert!(!Type::Msat.admits(&json!(-1), Side::Response));
        assert!(!Type::Msat.admits(&json!(1.5), Side::Response));
        assert!(Type::MsatOrAny.admits(&json!("any"), Side::Request));
    }

    #[test]
    fn unsigned_widths() {
        assert!(Type::U32.admits(&json!(4_294_967_295u64), Side::Response));
        assert!(!Type::U32.admits(&json!(4_294_967_296u64), Side::Response));
        assert!(!Type::U16.admits(&json!(65_536), Side::Response));
        assert!(!Type::U8.admits(&json!(-1), Side::Response));
        assert!(!Type::U64.admits(&json!("1"), Side::Response));
        assert!(Type::Integer.admits(&json!(-5), Side::Response));
        assert!(!Type::Integer.admits(&json!(1.5), Side::Response));
    }

    #[test]
    fn lightning_strings() {
        assert!(Type::ShortChannelId.admits(&json!("103x1x0"), Side::Response));
        for bad in [
            "103x1",
            "103x1x0x1",
            "16777216x1x0",
            "1x1x65536",
            "ax1x0",
            "1x-1x0",
        ] {
            assert!(
                !Type::ShortChannelId.admits(&json!(bad), Side::Response),
                "{bad}"
            );
        }
        assert!(Type::ShortChannelIdDir.admits(&json!("103x3x0/1"), Side::Response));
        assert!(!Type::ShortChannelIdDir.admits(&json!("103x3x0/2"), Side::Response));
        let key = "0334ef614b46dee1d7683e530748e06bd7414b5eff4a14d0d6646ffe2026630c24";
        assert!(Type::Pubkey.admits(&json!(key), Side::Response));
        assert!(!Type::Pubkey.admits(&json!(key.replacen("03", "04", 1)), Side::Response));
        assert!(!Type::Hex32("hash").admits(&json!(key), Side::Response));
        assert!(!Type::Hex.admits(&json!("abc"), Side::Response));
        assert!(Type::Feerate.admits(&json!("253perkw"), Side::Request));
        assert!(!Type::Feerate.admits(&json!("fast"), Side::Request));
        assert!(Type::Outpoint.admits(&json!(format!("{}:1", "ab".repeat(32))), Side::Request));
    }
}
