//! Versioned state blobs: what a policy remembers between calls, in `node-state` and each
//! `channel-state`.
//!
//! ## Encoding
//!
//! ```text
//! byte 0      version (u8), chosen by the policy: bump it whenever the layout changes
//! bytes 1..   the fields, in the order the policy writes them, fixed width, little-endian:
//!             u8/bool 1 · u16 2 · u32/i32 4 · u64/i64/f64 8 · option: 1 tag byte (0/1) + value
//!             bytes/str: u32 length + the bytes · seq: u32 count + the items
//! ```
//!
//! No field names, no padding, no self-description: a channel state of five counters is 41
//! bytes. A blob is read back only if its version is one the policy says it reads, every
//! field parses (a bool is 0 or 1, a float is finite, a str is UTF-8, a count fits in what is
//! left) and nothing is left over. Anything else — another version's layout, a truncated or
//! damaged blob — is [`StateError`], and [`load`]/[`Restore`] turn it into the type's
//! `Default` plus a warning in the log: a policy starts over, it never traps on its own state.
//!
//! ```
//! use guest_support::state::{self, Reader, Versioned, Writer};
//!
//! #[derive(Default, Debug, PartialEq)]
//! struct Memory { last_fee_ppm: u32, seen: u64 }
//!
//! impl Versioned for Memory {
//!     const VERSION: u8 = 1;
//!     fn write(&self, w: &mut Writer) {
//!         w.u32(self.last_fee_ppm).u64(self.seen);
//!     }
//!     fn read(_version: u8, r: &mut Reader<'_>) -> Option<Self> {
//!         Some(Self { last_fee_ppm: r.u32()?, seen: r.u64()? })
//!     }
//! }
//!
//! let blob = state::save(&Memory { last_fee_ppm: 250, seen: 3 });
//! assert_eq!(blob.len(), 1 + 4 + 8);
//! assert_eq!(state::load::<Memory>(&blob, "node state"), Memory { last_fee_ppm: 250, seen: 3 });
//! assert_eq!(state::load::<Memory>(&[9, 9], "node state"), Memory::default()); // logged
//! assert_eq!(state::load::<Memory>(&[], "node state"), Memory::default()); // first call: silent
//! ```
//!
//! To change the layout, bump `VERSION`, and either let old blobs reset (the default) or read
//! them too: override [`Versioned::reads`] and branch on the version in [`Versioned::read`].

use alloc::{format, string::String, vec::Vec};
use core::fmt;

use crate::types::{ChannelState, Scid};

mod codec;

pub use codec::{Reader, Writer};

/// A state type with a versioned byte layout.
pub trait Versioned: Default + Sized {
    /// The version [`save`] writes.
    const VERSION: u8;

    /// Whether [`read`](Self::read) understands blobs of `version`; by default only
    /// [`VERSION`](Self::VERSION). Accept older versions here to migrate instead of resetting.
    fn reads(version: u8) -> bool {
        version == Self::VERSION
    }

    /// Writes the fields (the version byte is already written).
    fn write(&self, w: &mut Writer);

    /// Reads the fields of a blob of `version` (one [`reads`](Self::reads) accepted); `None`
    /// for a damaged blob. Leftover bytes are checked by the caller.
    fn read(version: u8, r: &mut Reader<'_>) -> Option<Self>;
}

/// Why a blob was not restored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateError {
    /// No bytes: the first call, or state never written. Not worth a log line.
    Empty,
    /// A version this policy does not read (an older or newer layout).
    UnknownVersion { found: u8, current: u8 },
    /// The version is known but the fields do not parse, or bytes are left over.
    Corrupt { version: u8 },
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("no state"),
            Self::UnknownVersion { found, current } => {
                write!(f, "version {found} is not readable by version {current}")
            }
            Self::Corrupt { version } => write!(f, "version {version} blob is damaged"),
        }
    }
}

/// The blob of `state`: the version byte, then the fields.
pub fn save<S: Versioned>(state: &S) -> Vec<u8> {
    let mut w = Writer::new(S::VERSION);
    state.write(&mut w);
    w.finish()
}

/// The state in `bytes`, or why not. Pure: no logging.
pub fn decode<S: Versioned>(bytes: &[u8]) -> Result<S, StateError> {
    let Some((&version, fields)) = bytes.split_first() else {
        return Err(StateError::Empty);
    };
    if !S::reads(version) {
        return Err(StateError::UnknownVersion {
            found: version,
            current: S::VERSION,
        });
    }
    let mut r = Reader::new(fields);
    S::read(version, &mut r)
        .filter(|_| r.is_empty())
        .ok_or(StateError::Corrupt { version })
}

/// The state in `bytes`; a fresh `S::default()` when there is none (silently) or it cannot be
/// read (with a warning naming `what`, e.g. `"node state"`).
pub fn load<S: Versioned>(bytes: &[u8], what: &str) -> S {
    let mut restore = Restore::new(what);
    let state = restore.load(bytes);
    restore.finish();
    state
}

/// The blob a snapshot holds for channel `id`; empty when it holds none.
pub fn channel_blob(states: &[ChannelState], id: Scid) -> &[u8] {
    states
        .iter()
        .find(|s| s.id == id)
        .map_or(&[], |s| s.state.as_slice())
}

/// Restores many blobs (one per channel) and reports the unreadable ones in **one** log line
/// rather than one per channel (the host keeps 64 lines per call).
///
/// ```
/// use guest_support::state::{Restore, Versioned, Reader, Writer};
/// # #[derive(Default)] struct Memory(u32);
/// # impl Versioned for Memory {
/// #     const VERSION: u8 = 1;
/// #     fn write(&self, w: &mut Writer) { w.u32(self.0); }
/// #     fn read(_: u8, r: &mut Reader<'_>) -> Option<Self> { Some(Self(r.u32()?)) }
/// # }
/// let blobs: [&[u8]; 3] = [&[1, 7, 0, 0, 0], &[], &[2, 0]];
/// let mut restore = Restore::new("channel state");
/// let states: Vec<Memory> = blobs.iter().map(|b| restore.load(b)).collect();
/// assert_eq!((restore.restored(), restore.fresh(), restore.reset()), (1, 1, 1));
/// // Warns "1 of 3 channel state blobs unreadable (version 2 …): started fresh":
/// restore.finish();
/// ```
#[derive(Debug)]
pub struct Restore<'a> {
    what: &'a str,
    restored: u32,
    fresh: u32,
    reset: u32,
    first_error: Option<StateError>,
}

impl<'a> Restore<'a> {
    pub fn new(what: &'a str) -> Self {
        Self {
            what,
            restored: 0,
            fresh: 0,
            reset: 0,
            first_error: None,
        }
    }

    /// The state in `bytes`, or a fresh default (counted).
    pub fn load<S: Versioned>(&mut self, bytes: &[u8]) -> S {
        match decode(bytes) {
            Ok(state) => {
                self.restored += 1;
                state
            }
            Err(error) => self.fall_back(error),
        }
    }

    /// For a state type with its own codec (e.g. one from a pure strategy crate): `decode`
    /// returns `None` for a blob it cannot read. The first byte is reported as the version.
    pub fn load_with<S: Default>(
        &mut self,
        bytes: &[u8],
        decode: impl FnOnce(&[u8]) -> Option<S>,
    ) -> S {
        if bytes.is_empty() {
            return self.fall_back(StateError::Empty);
        }
        match decode(bytes) {
            Some(state) => {
                self.restored += 1;
                state
            }
            None => self.fall_back(StateError::Corrupt { version: bytes[0] }),
        }
    }

    fn fall_back<S: Default>(&mut self, error: StateError) -> S {
        if error == StateError::Empty {
            self.fresh += 1;
        } else {
            self.reset += 1;
            self.first_error.get_or_insert(error);
        }
        S::default()
    }

    /// Blobs read back.
    pub fn restored(&self) -> u32 {
        self.restored
    }

    /// Empty blobs (no state yet): fresh defaults, not an error.
    pub fn fresh(&self) -> u32 {
        self.fresh
    }

    /// Unreadable blobs replaced by fresh defaults.
    pub fn reset(&self) -> u32 {
        self.reset
    }

    /// The warning [`finish`](Self::finish) logs; `None` when every blob was readable or empty.
    pub fn summary(&self) -> Option<String> {
        let error = self.first_error?;
        let total = self.restored + self.fresh + self.reset;
        Some(if total == 1 {
            format!("{} unreadable ({error}): started fresh", self.what)
        } else {
            format!(
                "{} of {total} {} blobs unreadable ({error}{}): started fresh",
                self.reset,
                self.what,
                if self.reset > 1 { ", first" } else { "" },
            )
        })
    }

    /// Logs the [`summary`](Self::summary) at warn level, if any.
    pub fn finish(self) {
        if let Some(line) = self.summary() {
            crate::log::warn(&line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::{Level, take_captured};
    use alloc::{string::ToString, vec, vec::Vec};

    #[derive(Clone, Debug, Default, PartialEq)]
    struct Memory {
        price_ppm: u32,
        ema: f64,
        since: Option<u64>,
        probing: bool,
        history: Vec<i32>,
        label: String,
    }

    impl Versioned for Memory {
        const VERSION: u8 = 2;

        // Version 1 lacked `label`; it is still read (migration).
        fn reads(version: u8) -> bool {
            version == 1 || version == 2
        }

        fn write(&self, w: &mut Writer) {
            w.u32(self.price_ppm)
                .f64(self.ema)
                .opt_u64(self.since)
                .bool(self.probing)
                .len(self.history.len());
            for h in &self.history {
                w.i32(*h);
            }
            w.str(&self.label);
        }

        fn read(version: u8, r: &mut Reader<'_>) -> Option<Self> {
            let price_ppm = r.u32()?;
            let ema = r.f64()?;
            let since = r.opt_u64()?;
            let probing = r.bool()?;
            let n = r.len(4)?;
            let history = (0..n).map(|_| r.i32()).collect::<Option<Vec<_>>>()?;
            let label = if version >= 2 {
                r.str()?.to_string()
            } else {
                String::new()
            };
            Some(Self {
                price_ppm,
                ema,
                since,
                probing,
                history,
                label,
            })
        }
    }

    fn sample() -> Memory {
        Memory {
            price_ppm: 420,
            ema: 0.25,
            since: Some(1_700_000_000),
            probing: true,
            history: vec![-3, 7],
            label: "ok".into(),
        }
    }

    #[test]
    fn round_trips_with_a_version_byte_and_a_compact_layout() {
        let blob = save(&sample());
        assert_eq!(blob[0], 2);
        assert_eq!(blob.len(), 1 + 4 + 8 + 9 + 1 + (4 + 8) + (4 + 2));
        assert_eq!(&blob[1..5], &420u32.to_le_bytes(), "little-endian");
        assert_eq!(decode::<Memory>(&blob), Ok(sample()));
        assert_eq!(decode(&save(&Memory::default())), Ok(Memory::default()));
    }

    #[test]
    fn older_versions_the_type_accepts_are_migrated() {
        let mut w = Writer::new(1);
        w.u32(9).f64(0.5).opt_u64(None).bool(false).len(0);
        let migrated: Memory = decode(&w.finish()).unwrap();
        assert_eq!(migrated.price_ppm, 9);
        assert_eq!(migrated.label, "");
    }

    #[test]
    fn unreadable_blobs_are_errors_never_panics() {
        let good = save(&sample());
        assert_eq!(decode::<Memory>(&[]), Err(StateError::Empty));
        assert_eq!(
            decode::<Memory>(&[3, 1, 2]),
            Err(StateError::UnknownVersion {
                found: 3,
                current: 2
            })
        );
        for cut in 1..good.len() {
            assert_eq!(
                decode::<Memory>(&good[..cut]),
                Err(StateError::Corrupt { version: 2 }),
                "truncated at {cut}"
            );
        }
        let mut longer = good.clone();
        longer.push(0);
        assert_eq!(
            decode::<Memory>(&longer),
            Err(StateError::Corrupt { version: 2 })
        );
        let mut nan = good.clone();
        nan[5..13].copy_from_slice(&f64::NAN.to_le_bytes());
        assert!(decode::<Memory>(&nan).is_err(), "non-finite float");
        let mut bad_bool = good.clone();
        bad_bool[22] = 7;
        assert!(decode::<Memory>(&bad_bool).is_err(), "bool other than 0/1");
        let mut huge_count = good.clone();
        huge_count[23..27].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(
            decode::<Memory>(&huge_count).is_err(),
            "count beyond the blob"
        );
        // Every single-byte corruption either decodes to something or is refused.
        for i in 0..good.len() {
            for flip in [0x01, 0x80, 0xff] {
                let mut damaged = good.clone();
                damaged[i] ^= flip;
                let _ = decode::<Memory>(&damaged);
            }
        }
    }

    #[test]
    fn load_starts_fresh_and_says_so() {
        let _ = take_captured();
        assert_eq!(load::<Memory>(&save(&sample()), "node state"), sample());
        assert_eq!(load::<Memory>(&[], "node state"), Memory::default());
        assert!(
            take_captured().is_empty(),
            "a first call is not worth a line"
        );
        assert_eq!(load::<Memory>(&[200, 1], "node state"), Memory::default());
        assert_eq!(
            take_captured(),
            vec![(
                Level::Warn,
                "node state unreadable (version 200 is not readable by version 2): started fresh"
                    .to_string()
            )]
        );
    }

    #[test]
    fn restore_reports_many_channels_in_one_line() {
        let _ = take_captured();
        let good = save(&sample());
        let blobs: [&[u8]; 5] = [&good, &[], &[9], &good[..4], &good];
        let mut restore = Restore::new("channel state");
        let states: Vec<Memory> = blobs.iter().map(|b| restore.load(b)).collect();
        assert_eq!(states[0], sample());
        assert_eq!(states[2], Memory::default());
        assert_eq!(
            (restore.restored(), restore.fresh(), restore.reset()),
            (2, 1, 2)
        );
        restore.finish();
        assert_eq!(
            take_captured(),
            vec![(
                Level::Warn,
                "2 of 5 channel state blobs unreadable (version 9 is not readable by version 2, \
                 first): started fresh"
                    .to_string()
            )]
        );
        let mut quiet = Restore::new("channel state");
        let _: Memory = quiet.load(&good);
        let _: Memory = quiet.load(&[]);
        assert_eq!(quiet.summary(), None);
        quiet.finish();
        assert!(take_captured().is_empty());
    }

    #[test]
    fn foreign_codecs_get_the_same_fallback() {
        let mut restore = Restore::new("node state");
        let parsed: u32 = restore.load_with(&[1, 5], |b| (b.len() == 2).then_some(u32::from(b[1])));
        assert_eq!(parsed, 5);
        let reset: u32 = restore.load_with(&[4, 5, 6], |_| None);
        assert_eq!(reset, 0);
        let fresh: u32 = restore.load_with(&[], |_| Some(99));
        assert_eq!(fresh, 0, "an empty blob is never handed to the codec");
        assert_eq!(
            restore.summary().as_deref(),
            Some("1 of 3 node state blobs unreadable (version 4 blob is damaged): started fresh")
        );
    }

    #[test]
    fn channel_blobs_by_id() {
        let states = vec![
            ChannelState {
                id: 7,
                state: vec![1, 2],
            },
            ChannelState {
                id: 9,
                state: vec![3],
            },
        ];
        assert_eq!(channel_blob(&states, 9), &[3]);
        assert_eq!(channel_blob(&states, 8), &[] as &[u8]);
    }

    #[test]
    fn reader_primitives() {
        let mut w = Writer::new(1);
        w.u8(1)
            .u16(0x0203)
            .i64(-2)
            .opt_u64(Some(5))
            .bytes(&[9, 9])
            .str("é");
        let blob = w.finish();
        let mut r = Reader::new(&blob[1..]);
        assert_eq!(r.u8(), Some(1));
        assert_eq!(r.u16(), Some(0x0203));
        assert_eq!(r.i64(), Some(-2));
        assert_eq!(r.opt_u64(), Some(Some(5)));
        assert_eq!(r.bytes(), Some(&[9u8, 9][..]));
        assert_eq!(r.remaining(), 4 + 2);
        assert_eq!(r.str(), Some("é"));
        assert!(r.is_empty());
        assert_eq!(r.u8(), None);
        assert_eq!(Reader::new(&[2]).opt_u64(), None, "bad tag");
        assert_eq!(Reader::new(&[1, 0, 0, 0, 0xff]).str(), None, "not UTF-8");
        assert_eq!(Reader::new(&[5, 0, 0, 0, 1]).bytes(), None, "short");
    }
}
