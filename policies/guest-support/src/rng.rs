//! A deterministic random number generator seeded from the host's `ctx.seed`.
//!
//! The host records the seed with every cycle, so a policy that draws only from it replays
//! exactly. The generator is **SplitMix64** (Steele, Lea and Flood, "Fast splittable
//! pseudorandom number generators", OOPSLA 2014): a 64-bit counter advanced by the golden-ratio
//! constant `0x9E3779B97F4A7C15`, each value passed through a xor-shift-multiply finaliser. It
//! is small, fast, passes BigCrush, and every seed (0 included) is a good seed. It is **not**
//! cryptographic: never use it for secrets.
//!
//! ```
//! use guest_support::rng::Rng;
//! let mut rng = Rng::new(42); // in a policy: Rng::new(ctx.seed)
//! let die = rng.below(6) + 1; // 1..=6, without modulo bias
//! assert!((1..=6).contains(&die));
//! // A stream per channel that does not depend on the order channels are visited in:
//! let mut per_channel = Rng::for_key(42, 0x0c35_0000_0100_0000);
//! let _jitter_ppm = per_channel.between(0, 10);
//! ```

/// The golden-ratio increment of SplitMix64.
const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function (a variant of MurmurHash3's 64-bit finaliser).
const fn finalize(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// SplitMix64. Cheap to copy; a copy replays the same sequence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// The generator for `seed` (use `ctx.seed`).
    pub const fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// An independent stream for `key` (a channel id, a peer index…) under `seed`: draws for
    /// one key do not depend on which other keys were drawn for, or in what order.
    pub const fn for_key(seed: u64, key: u64) -> Self {
        Self::new(seed ^ finalize(key.wrapping_add(GOLDEN_GAMMA)))
    }

    /// The next 64 uniformly distributed bits.
    pub const fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        finalize(self.state)
    }

    /// The next 32 uniformly distributed bits (the high half of [`next_u64`](Self::next_u64)).
    pub const fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// Uniform in `0..n`, without modulo bias; `0` when `n` is 0.
    ///
    /// Lemire's multiply-and-reject method ("Fast random integer generation in an interval",
    /// 2019): the high 64 bits of `x × n` are the draw; the few `x` whose low bits fall below
    /// `2^64 mod n` are rejected, which makes every outcome exactly equally likely.
    pub const fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let mut product = self.next_u64() as u128 * n as u128;
        let mut low = product as u64;
        if low < n {
            let threshold = n.wrapping_neg() % n;
            while low < threshold {
                product = self.next_u64() as u128 * n as u128;
                low = product as u64;
            }
        }
        (product >> 64) as u64
    }

    /// Uniform in `lo..=hi` (the bounds are swapped if given in the wrong order).
    pub const fn between(&mut self, lo: u64, hi: u64) -> u64 {
        let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
        match (hi - lo).checked_add(1) {
            Some(span) => lo + self.below(span),
            None => self.next_u64(),
        }
    }

    /// True with probability `numerator / denominator` (always when `numerator ≥ denominator`,
    /// never when `numerator` is 0). Exact: no floating point involved.
    pub const fn chance(&mut self, numerator: u64, denominator: u64) -> bool {
        if numerator >= denominator {
            return true;
        }
        self.below(denominator) < numerator
    }

    /// Uniform in `[0, 1)` with 53 bits of precision. For ratios only — never money.
    pub fn unit_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Shuffles `items` in place (Fisher–Yates): every order equally likely.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }

    /// One element chosen uniformly; `None` for an empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() {
            return None;
        }
        items.get(self.below(items.len() as u64) as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn matches_the_published_splitmix64_sequence() {
        let mut rng = Rng::new(0);
        assert_eq!(rng.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(rng.next_u64(), 0x6e78_9e6a_a1b9_65f4);
        assert_eq!(rng.next_u64(), 0x06c4_5d18_8009_454f);
        let mut rng = Rng::new(1_234_567);
        assert_eq!(rng.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(rng.next_u64(), 0x2c73_f084_5854_0fa5);
    }

    #[test]
    fn same_seed_same_sequence() {
        let mut a = Rng::new(99);
        let mut b = a.clone();
        for _ in 0..100 {
            assert_eq!(a.below(1_000), b.below(1_000));
        }
        assert_ne!(Rng::new(1).next_u64(), Rng::new(2).next_u64());
    }

    #[test]
    fn below_stays_in_range() {
        let mut rng = Rng::new(7);
        assert_eq!(rng.below(0), 0);
        assert_eq!(rng.below(1), 0);
        for n in [2, 3, 7, 1_000, u64::MAX / 3, u64::MAX] {
            for _ in 0..1_000 {
                assert!(rng.below(n) < n);
            }
        }
        for _ in 0..1_000 {
            let v = rng.between(10, 12);
            assert!((10..=12).contains(&v));
            assert!((10..=12).contains(&rng.between(12, 10)));
        }
        let _ = rng.between(0, u64::MAX);
        assert_eq!(rng.between(5, 5), 5);
    }

    #[test]
    fn below_has_no_modulo_bias() {
        // n just above 2^63: `x % n` would land in the lower half three times in four.
        let n = (1u64 << 63) + 1;
        let mut rng = Rng::new(3);
        let draws = 20_000;
        let low = (0..draws).filter(|_| rng.below(n) < n / 2).count();
        let share = low as f64 / draws as f64;
        assert!((0.48..0.52).contains(&share), "lower-half share {share}");
        // A small n: every outcome about equally often.
        let mut counts = [0u32; 6];
        for _ in 0..60_000 {
            counts[rng.below(6) as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (9_500..10_500).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn chance_is_exact_at_the_edges() {
        let mut rng = Rng::new(11);
        assert!((0..100).all(|_| rng.chance(5, 5)));
        assert!((0..100).all(|_| rng.chance(6, 5)));
        assert!((0..100).all(|_| !rng.chance(0, 5)));
        assert!(!rng.chance(0, 0) || rng.chance(0, 0), "0/0 does not panic");
        let hits = (0..10_000).filter(|_| rng.chance(1, 4)).count();
        assert!((2_300..2_700).contains(&hits), "{hits}");
    }

    #[test]
    fn keyed_streams_are_independent_of_order() {
        let seed = 5;
        let mut forward: Vec<u64> = (0..4).map(|k| Rng::for_key(seed, k).next_u64()).collect();
        let mut backward: Vec<u64> = (0..4)
            .rev()
            .map(|k| Rng::for_key(seed, k).next_u64())
            .collect();
        backward.reverse();
        assert_eq!(forward, backward);
        forward.sort_unstable();
        forward.dedup();
        assert_eq!(forward.len(), 4, "distinct keys, distinct streams");
        assert_ne!(Rng::for_key(1, 9).next_u64(), Rng::for_key(2, 9).next_u64());
    }

    #[test]
    fn shuffle_pick_and_unit() {
        let mut rng = Rng::new(8);
        let mut items: Vec<u32> = (0..50).collect();
        rng.shuffle(&mut items);
        let mut sorted = items.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>(), "a permutation");
        assert_ne!(items, sorted, "and not the identity (for this seed)");
        assert_eq!(rng.pick::<u8>(&[]), None);
        assert!([1, 2, 3].contains(rng.pick(&[1, 2, 3]).unwrap()));
        for _ in 0..1_000 {
            let u = rng.unit_f64();
            assert!((0.0..1.0).contains(&u));
        }
    }
}
