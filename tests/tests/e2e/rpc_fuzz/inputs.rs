//! Generated RPC inputs for the fuzz harness, all from one seeded SplitMix64: values of every
//! JSON type and of the wrong type, huge and negative numbers, long and odd strings, deep
//! nesting, both parameter forms with known and unknown names, and raw texts that are not
//! JSON a parser accepts.

use revops::rng::SplitMix64;
use serde_json::{Map, Number, Value, json};

/// Words a `revenue-*` method may take, so that calls get past the first check and into the
/// handlers: kinds, actions, slots, config keys and values, scopes, periods, tiers, paths.
const PLAUSIBLE: &[&str] = &[
    "fee",
    "rebalance",
    "payout",
    "get",
    "set",
    "reset",
    "default",
    "off",
    "true",
    "false",
    "embedded:fee-static",
    "embedded:fee-balance-curve",
    "embedded:fee-one-percent",
    "embedded:fee-strategy",
    "embedded:payout-twab",
    "embedded:rebalance-ev",
    "embedded:nope",
    "fee.max-ppm",
    "fee.min-ppm",
    "fee.interval-secs",
    "dry-run",
    "fee.max-ppm@103x1x0",
    "rebalance.daily-budget-sat",
    "rebalance.max-fee-ppm",
    "fee.hysteresis-pct",
    "lds.min-payout-sat",
    "fee.max-step-floor-ppm",
    "103x1x0",
    "0x0x0",
    "16777216x1x0",
    "1x1x1",
    "2026-01",
    "2026-13",
    "2099-01",
    "garbage",
    "90d",
    "30d",
    "liquid",
    "alice",
    "x.wasm",
    "../../x.wasm",
    "/etc/passwd",
    "all",
    "0",
    "-1",
    "1e9",
    "18446744073709551616",
    "0334ef614b46dee1d7683e530748e06bd7414b5eff4a14d0d6646ffe2026630c24",
];

/// Strings a parser or a log line may choke on.
const ODD: &[&str] = &[
    "",
    " ",
    "\u{0}",
    "\u{1}\u{7f}",
    "\n\n",
    "\r\n",
    "\t",
    "\"",
    "\\",
    "'; DROP TABLE x;--",
    "%s%n%x",
    "{{}}",
    "${HOME}",
    "💥🔥",
    "\u{202e}gnp.exe",
    "\u{feff}",
    "\u{fffd}",
    "\u{10ffff}",
    "ǅ̴̛̀",
    "null",
    "[]",
    "{}",
    "NaN",
    "Infinity",
    "-0",
    "0x10",
    "１２３",
];

pub struct Inputs {
    rng: SplitMix64,
}

impl Inputs {
    pub fn new(seed: u64) -> Self {
        Self {
            rng: SplitMix64::new(seed),
        }
    }

    pub fn below(&mut self, bound: u64) -> u64 {
        self.rng.below(bound)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.rng.below(items.len() as u64) as usize]
    }

    /// The params of one call to a method whose parameters are `names`.
    pub fn params(&mut self, names: &[String]) -> Value {
        match self.below(20) {
            // Only plausible words and numbers, to get past the parameter checks into the
            // handlers.
            0..=4 => {
                let count = self.below(names.len() as u64 + 1);
                Value::Array((0..count).map(|_| self.plausible()).collect())
            }
            5..=10 => {
                let count = self.below(names.len() as u64 + 3);
                Value::Array((0..count).map(|_| self.value(0)).collect())
            }
            11..=17 => {
                let mut object = Map::new();
                for name in names {
                    if self.below(3) != 0 {
                        object.insert(name.clone(), self.value(0));
                    }
                }
                if self.below(6) == 0 {
                    object.insert(self.string(), self.value(0));
                }
                Value::Object(object)
            }
            18 => self.value(0),
            _ => {
                let depth = self.rng.between(100, 400) as usize;
                self.nested(depth)
            }
        }
    }

    /// A word a method takes, or a small number.
    fn plausible(&mut self) -> Value {
        match self.below(4) {
            0 => json!(self.rng.below(5_000)),
            _ => json!(self.pick(PLAUSIBLE)),
        }
    }

    /// Any value; mostly plausible or scalar, sometimes containers.
    pub fn value(&mut self, depth: usize) -> Value {
        match self.below(16) {
            0..=4 => json!(self.pick(PLAUSIBLE)),
            5 => Value::Null,
            6 => json!(self.below(2) == 0),
            7 | 8 => self.number(),
            9 | 10 => json!(self.string()),
            11 if depth < 4 => {
                let count = self.below(4);
                Value::Array((0..count).map(|_| self.value(depth + 1)).collect())
            }
            12 if depth < 4 => {
                let count = self.below(4);
                Value::Object(
                    (0..count)
                        .map(|_| (self.string(), self.value(depth + 1)))
                        .collect(),
                )
            }
            13 => {
                let depth = self.rng.between(2, 200) as usize;
                self.nested(depth)
            }
            _ => json!(self.rng.below(3_000)),
        }
    }

    fn number(&mut self) -> Value {
        match self.below(10) {
            0 => json!(u64::MAX),
            1 => json!(i64::MIN),
            2 => json!(-(self.rng.below(1 << 40) as i64)),
            3 => json!(f64::MAX),
            4 => json!(-1.5e300),
            5 => Value::Number(Number::from_f64(self.rng.unit() * 1e6).expect("finite")),
            6 => json!(u32::MAX as u64 + 1),
            7 => json!(i64::MAX),
            8 => json!(0.000_000_1),
            _ => json!(self.rng.next_u64()),
        }
    }

    /// A string: odd, random Unicode, long (10 kB) or very rarely 1 MB.
    pub fn string(&mut self) -> String {
        match self.below(1000) {
            0 => "x".repeat(1 << 20),
            1..=20 => "é".repeat(5_000),
            21..=400 => self.pick(ODD).to_string(),
            401..=600 => self.pick(PLAUSIBLE).to_string(),
            _ => {
                let length = self.below(40);
                (0..length).map(|_| self.char()).collect()
            }
        }
    }

    fn char(&mut self) -> char {
        match self.below(4) {
            0 => (b' ' + self.below(95) as u8) as char,
            1 => char::from_u32(self.below(0x20) as u32).expect("control"),
            _ => loop {
                if let Some(c) = char::from_u32(self.below(0x11_0000) as u32) {
                    break c;
                }
            },
        }
    }

    /// Arrays or objects nested `depth` deep (serde_json's reader stops at 128).
    pub fn nested(&mut self, depth: usize) -> Value {
        let mut value = json!(1);
        for level in 0..depth {
            value = if level % 2 == 0 || self.below(2) == 0 {
                json!([value])
            } else {
                json!({ "a": value })
            };
        }
        value
    }

    /// A text with no id a reader could find: garbage, a bare array, a request without an id,
    /// an object too deep to parse before its id. Never contains the `\n\n` separator.
    pub fn unanswerable(&mut self, method: &str) -> Vec<u8> {
        match self.below(5) {
            0 => {
                let length = self.below(200);
                (0..length)
                    .map(|_| match self.below(256) as u8 {
                        b'\n' => b' ',
                        byte => byte,
                    })
                    .collect()
            }
            1 => b"[1,2,3]".to_vec(),
            2 => format!(r#"{{"jsonrpc":"2.0","method":"{method}","params":[]}}"#).into_bytes(),
            3 => {
                let depth = self.rng.between(129, 5_000) as usize;
                let mut text = b"{\"params\":".to_vec();
                text.extend(std::iter::repeat_n(b'[', depth));
                text.extend(std::iter::repeat_n(b']', depth));
                text.extend(b",\"id\":\"late\"}");
                text
            }
            _ => b"\xff\xfe{\"id\":".to_vec(),
        }
    }

    /// A raw request text (its id is `id`) that is not a valid JSON-RPC request: no JSON
    /// parser accepts it, or it is too deep for one. Never contains the `\n\n` separator.
    pub fn raw(&mut self, id: &str, method: &str) -> Vec<u8> {
        let head = format!(r#"{{"jsonrpc":"2.0","id":"{id}","method":"{method}","params":"#);
        let mut text = head.into_bytes();
        match self.below(8) {
            0 => {
                let depth = self.rng.between(129, 5_000) as usize;
                text.extend(std::iter::repeat_n(b'[', depth));
                text.extend(std::iter::repeat_n(b']', depth));
                text.push(b'}');
            }
            1 => {
                text.extend(b"[\"");
                let length = self.below(16) + 1;
                text.extend((0..length).map(|_| 0x80 + self.below(0x80) as u8));
                text.extend(b"\"]}");
            }
            2 => text.extend(b"[1e999999]}"),
            3 => text.extend(b"[123456789012345678901234567890123456789]}"),
            4 => text.extend(b"[\"\\ud800\"]}"),
            5 => text.extend(b"[\"a\x01b\x00c\"]}"),
            6 => {
                // Cut short anywhere after the id.
                let tail = br#"{"kind":"fee","name":"x","path":"embedded:fee-static"}}"#;
                let cut = self.below(tail.len() as u64) as usize;
                text.extend(&tail[..cut]);
            }
            _ => {
                let length = self.below(64);
                text.extend((0..length).map(|_| match self.below(256) as u8 {
                    b'\n' => b' ',
                    byte => byte,
                }));
            }
        }
        text
    }
}
