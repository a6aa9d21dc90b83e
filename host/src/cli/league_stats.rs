//! The league's statistics, pure: each policy's net relative to the best other policy on the
//! same scenario, medians and means of those ratios, wins and ties, and a bootstrap interval
//! on the median that is the same on every run (resampling from our own seeded SplitMix64).

use crate::rng::SplitMix64;
use serde::Serialize;

/// Bootstrap resamples behind each interval.
pub const BOOTSTRAP_RESAMPLES: usize = 2000;
/// The interval's coverage: 90 %, i.e. the 5th and 95th percentiles of the resampled medians.
pub const BOOTSTRAP_LOW: f64 = 0.05;
pub const BOOTSTRAP_HIGH: f64 = 0.95;

/// Where one policy stands on one scenario.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Standing {
    /// Net divided by the best net of the other policies on the scenario; `None` when that
    /// best is zero or negative (no meaningful ratio: nobody else earned anything).
    pub ratio: Option<f64>,
    /// Strictly above every other policy.
    pub win: bool,
    /// Level with the best other policy, and nobody above.
    pub tie: bool,
}

/// `nets[scenario][policy]` (msat) → `standings[scenario][policy]`. A scenario with a single
/// policy has no "other": its standing has no ratio and is neither win nor tie.
pub fn standings(nets: &[Vec<i64>]) -> Vec<Vec<Standing>> {
    nets.iter()
        .map(|row| {
            (0..row.len())
                .map(|p| {
                    let best_other = row
                        .iter()
                        .enumerate()
                        .filter(|&(q, _)| q != p)
                        .map(|(_, &net)| net)
                        .max();
                    match best_other {
                        None => Standing {
                            ratio: None,
                            win: false,
                            tie: false,
                        },
                        Some(best) => Standing {
                            ratio: (best > 0).then(|| row[p] as f64 / best as f64),
                            win: row[p] > best,
                            tie: row[p] == best,
                        },
                    }
                })
                .collect()
        })
        .collect()
}

/// The median (mean of the middle two for an even count); `None` for no values.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    })
}

pub fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// The `q`-quantile of sorted values (nearest rank on `q × (n − 1)`, rounded).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let index = (q * (sorted.len() - 1) as f64).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// A percentile bootstrap interval for the median of `values`: `resamples` draws of
/// `values.len()` values with replacement, the `BOOTSTRAP_LOW` and `BOOTSTRAP_HIGH` quantiles
/// of their medians. Deterministic in `seed`. `None` for no values.
pub fn bootstrap_median_interval(
    values: &[f64],
    resamples: usize,
    seed: u64,
) -> Option<(f64, f64)> {
    if values.is_empty() || resamples == 0 {
        return None;
    }
    let mut rng = SplitMix64::new(seed);
    let mut sample = vec![0.0; values.len()];
    let mut medians: Vec<f64> = (0..resamples)
        .map(|_| {
            for slot in sample.iter_mut() {
                *slot = values[rng.below(values.len() as u64) as usize];
            }
            median(&sample).expect("non-empty")
        })
        .collect();
    medians.sort_by(f64::total_cmp);
    Some((
        quantile(&medians, BOOTSTRAP_LOW),
        quantile(&medians, BOOTSTRAP_HIGH),
    ))
}

/// One policy's line of the league table, statistics part.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RatioSummary {
    /// Scenarios with a defined ratio (the best other policy earned something).
    pub scenarios_rated: usize,
    pub median_ratio: Option<f64>,
    pub mean_ratio: Option<f64>,
    /// 90 % bootstrap interval of the median ratio.
    pub median_ratio_interval: Option<(f64, f64)>,
    pub wins: usize,
    pub ties: usize,
}

/// Summarises column `policy` of `standings`; `seed` makes the bootstrap reproducible.
pub fn summarize(standings: &[Vec<Standing>], policy: usize, seed: u64) -> RatioSummary {
    let column: Vec<&Standing> = standings.iter().map(|row| &row[policy]).collect();
    let ratios: Vec<f64> = column.iter().filter_map(|s| s.ratio).collect();
    RatioSummary {
        scenarios_rated: ratios.len(),
        median_ratio: median(&ratios),
        mean_ratio: mean(&ratios),
        median_ratio_interval: bootstrap_median_interval(&ratios, BOOTSTRAP_RESAMPLES, seed),
        wins: column.iter().filter(|s| s.win).count(),
        ties: column.iter().filter(|s| s.tie).count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        assert_eq!(mean(&[1.0, 2.0, 6.0]), Some(3.0));
    }

    #[test]
    fn ratios_are_against_the_best_other_policy() {
        // Three policies on two scenarios.
        let nets = vec![vec![100, 50, 80], vec![30, 60, 60]];
        let s = standings(&nets);
        // Scenario 0: policy 0 vs best other 80; policy 1 vs 100; policy 2 vs 100.
        assert_eq!(s[0][0].ratio, Some(1.25));
        assert_eq!(s[0][1].ratio, Some(0.5));
        assert_eq!(s[0][2].ratio, Some(0.8));
        assert!(s[0][0].win && !s[0][0].tie);
        assert!(!s[0][1].win && !s[0][2].win);
        // Scenario 1: policies 1 and 2 tie at the top; neither wins.
        assert_eq!(s[1][0].ratio, Some(0.5));
        assert_eq!(s[1][1].ratio, Some(1.0));
        assert!(s[1][1].tie && s[1][2].tie && !s[1][1].win && !s[1][2].win);
        assert!(!s[1][0].tie);

        let summary = summarize(&s, 0, 1);
        assert_eq!(summary.median_ratio, Some(0.875));
        assert_eq!(summary.mean_ratio, Some(0.875));
        assert_eq!((summary.wins, summary.ties), (1, 0));
        let summary = summarize(&s, 1, 1);
        assert_eq!(summary.median_ratio, Some(0.75));
        assert_eq!((summary.wins, summary.ties), (0, 1));
    }

    #[test]
    fn no_ratio_when_nobody_else_earned() {
        let s = standings(&[vec![10, 0, -5], vec![7]]);
        assert_eq!(s[0][0].ratio, None, "best other is 0");
        assert!(s[0][0].win);
        assert_eq!(s[0][1].ratio, Some(0.0));
        assert_eq!(s[0][2].ratio, Some(-0.5));
        assert_eq!(
            s[1][0],
            Standing {
                ratio: None,
                win: false,
                tie: false
            }
        );
        let summary = summarize(&s, 0, 1);
        assert_eq!(summary.scenarios_rated, 0);
        assert_eq!(summary.median_ratio, None);
        assert_eq!(summary.median_ratio_interval, None);
        assert_eq!(summary.wins, 1);
    }

    #[test]
    fn bootstrap_is_deterministic_and_brackets_the_median() {
        let values: Vec<f64> = (0..31).map(|i| f64::from(i) / 10.0).collect();
        let a = bootstrap_median_interval(&values, 500, 9).unwrap();
        assert_eq!(a, bootstrap_median_interval(&values, 500, 9).unwrap());
        assert!(a.0 <= 1.5 && 1.5 <= a.1, "{a:?}");
        assert!(a.0 < a.1);
        assert_eq!(bootstrap_median_interval(&[2.0], 100, 1), Some((2.0, 2.0)));
        assert_eq!(bootstrap_median_interval(&[], 100, 1), None);
    }

    /// On samples of 30 from a known distribution (uniform on [0, 1), median 0.5), the 90 %
    /// interval should contain the true median in about 90 % of samples. Percentile intervals
    /// of a median from 30 values run a little wide or narrow; 80–98 % is the accepted band.
    #[test]
    fn bootstrap_interval_covers_the_true_median_about_90_percent_of_the_time() {
        let mut data_rng = SplitMix64::new(2024);
        let trials = 400;
        let covered = (0..trials)
            .filter(|&trial| {
                let sample: Vec<f64> = (0..30).map(|_| data_rng.unit()).collect();
                let (low, high) = bootstrap_median_interval(&sample, 400, trial).unwrap();
                low <= 0.5 && 0.5 <= high
            })
            .count();
        let coverage = covered as f64 / f64::from(trials as u32);
        assert!((0.80..=0.98).contains(&coverage), "coverage {coverage}");
    }
}
