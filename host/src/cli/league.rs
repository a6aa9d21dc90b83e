//! `revops simulate --league`: every fee policy on many scenarios, ranked. Jobs (one scenario,
//! one policy) run on all cores from a shared queue, all on one `Sandbox`; the main thread
//! draws progress, writes each scenario's outputs as soon as its last policy is done, and
//! prints the table (`league_table`) built from the statistics (`league_stats`).

use super::{
    SimulateArgs, chart, league_table,
    simulate::{draw_progress, load_scenario, names, policies_to_run, write_timeseries},
};
use crate::{
    rng::SplitMix64,
    runtime::Sandbox,
    sim::{
        PolicyUnderTest, Scenario, SimOptions, SimReport, SimRun, families, scenario::BUILTIN,
        simulate_with,
    },
};
use anyhow::{Context as _, anyhow, bail};
use std::{
    io::IsTerminal,
    path::Path,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, AtomicUsize, Ordering},
        mpsc,
    },
    time::Duration,
};

/// Generated scenarios when neither --count nor --seeds is given.
const DEFAULT_COUNT: u64 = 30;
/// The family when none is given.
const DEFAULT_FAMILY: &str = "small-retail";

pub fn run(args: &SimulateArgs) -> anyhow::Result<()> {
    let seeds = seeds(args)?;
    let family = args.family.as_deref().unwrap_or(DEFAULT_FAMILY);
    let mut scenarios = league_scenarios(family, &seeds)?;
    for name in &args.scenarios {
        scenarios.push(load_scenario(name)?);
    }
    for scenario in &mut scenarios {
        if let Some(days) = args.days {
            scenario.days = days;
        }
        scenario.validate()?;
    }
    let (policies, rebalancer) = policies_to_run(args)?;
    if policies.len() < 2 {
        bail!("a league needs two fee policies at least");
    }
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(scenarios.len() * policies.len())
        .max(1);
    // One call at a time per worker.
    let sandbox = Sandbox::for_simulation(u32::try_from(workers).unwrap_or(u32::MAX))
        .context("starting the WASM sandbox")?;
    let show_progress = !args.json && std::io::stderr().is_terminal();
    if !args.json {
        let rebalancing = rebalancer
            .as_ref()
            .map_or_else(String::new, |r| format!(", rebalancing with {}", r.label));
        eprintln!(
            "league of {} fee policies{rebalancing} on {} scenarios (family {family}, seeds {}): {}",
            policies.len(),
            scenarios.len(),
            describe_seeds(&seeds),
            names(&policies),
        );
    }
    let league = Jobs {
        scenarios: &scenarios,
        policies: &policies,
        rebalancer: rebalancer.as_ref(),
        channels: args.channels,
        options: SimOptions {
            hourly: args.out.is_some(),
        },
        workers,
    };
    let reports = league.run(&sandbox, show_progress, args.out.as_deref())?;
    let table = league_table::build(family, &seeds, &reports, rebalancer.as_ref());
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&table.to_json(&reports))?
        );
    } else {
        league_table::print(&table);
    }
    if let Some(dir) = &args.out {
        let json = serde_json::to_string_pretty(&table.to_json(&reports))?;
        std::fs::write(dir.join("league.json"), json)?;
        if !args.json {
            eprintln!(
                "wrote {0}/league.json and, per scenario, {0}/NN-SCENARIO/{{report.json,chart.svg,timeseries.csv}}",
                dir.display()
            );
        }
    }
    Ok(())
}

/// The seeds of the generated scenarios: `--seeds A..B` (or `A..=B`), else 1..=`--count`.
fn seeds(args: &SimulateArgs) -> anyhow::Result<Vec<u64>> {
    let Some(range) = &args.seeds else {
        return Ok((1..=args.count.unwrap_or(DEFAULT_COUNT)).collect());
    };
    let parse = |text: &str| {
        text.trim()
            .parse::<u64>()
            .map_err(|_| anyhow!("--seeds {range:?}: expected A..B or A..=B with whole numbers"))
    };
    let (low, high) = if let Some((a, b)) = range.split_once("..=") {
        (parse(a)?, parse(b)?.saturating_add(1))
    } else if let Some((a, b)) = range.split_once("..") {
        (parse(a)?, parse(b)?)
    } else {
        bail!("--seeds {range:?}: expected A..B or A..=B");
    };
    if low >= high {
        bail!("--seeds {range:?}: the range is empty");
    }
    if high - low > 10_000 {
        bail!("--seeds {range:?}: at most 10,000 scenarios");
    }
    Ok((low..high).collect())
}

fn describe_seeds(seeds: &[u64]) -> String {
    match (seeds.first(), seeds.last()) {
        (Some(first), Some(last)) if seeds.len() > 1 => format!("{first}..={last}"),
        (Some(only), _) => only.to_string(),
        _ => "none".into(),
    }
}

/// The scenarios of `family`, one per seed: a scenario family (`sim::families`) generates
/// them; a built-in scenario's name is accepted too, and then seed `s` derives a variant of
/// it (see `builtin_variant`).
fn league_scenarios(family: &str, seeds: &[u64]) -> anyhow::Result<Vec<Scenario>> {
    if families::FAMILIES.iter().any(|(name, _)| *name == family) {
        return seeds
            .iter()
            .map(|&seed| {
                families::generate(family, seed)
                    .ok_or_else(|| anyhow!("family {family:?} made no scenario for seed {seed}"))
            })
            .collect();
    }
    let base = Scenario::builtin(family).map_err(|_| {
        let builtins: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
        anyhow!(
            "no scenario family {family:?}; families: {}; or a built-in scenario: {}",
            families::family_names(),
            builtins.join(", ")
        )
    })?;
    Ok(seeds
        .iter()
        .map(|&seed| builtin_variant(&base, seed))
        .collect())
}

/// Seed `seed`'s variant of a built-in scenario: the seed replaced, 10–30 channels all
/// generated from the seed (the built-in's market, feerate and generation ranges kept), and
/// the built-in's events kept where their channel exists.
fn builtin_variant(base: &Scenario, seed: u64) -> Scenario {
    let mut scenario = base.clone();
    let mut rng = SplitMix64::new(seed ^ 0x1EA6_E000);
    let count = rng.between(10, 30) as usize;
    scenario.name = format!("{}-{seed}", base.name);
    scenario.seed = seed;
    scenario.channels.clear();
    scenario.generate.count = count;
    // Keep each event that still makes sense with fewer channels (names one that exists).
    let events = std::mem::take(&mut scenario.events);
    for event in events {
        scenario.events.push(event);
        if scenario.validate().is_err() {
            scenario.events.pop();
        }
    }
    scenario
}

/// Every (scenario, policy) pair of a league.
struct Jobs<'a> {
    scenarios: &'a [Scenario],
    policies: &'a [PolicyUnderTest],
    rebalancer: Option<&'a PolicyUnderTest>,
    channels: Option<usize>,
    options: SimOptions,
    /// Threads taking jobs from the queue (the sandbox's pool has a slot for each).
    workers: usize,
}

impl Jobs<'_> {
    /// Runs every job; `reports[scenario][policy]`. With `out`, each scenario's directory is
    /// written as soon as its last policy finishes (its timeseries then dropped).
    fn run(
        &self,
        sandbox: &Arc<Sandbox>,
        show_progress: bool,
        out: Option<&Path>,
    ) -> anyhow::Result<Vec<Vec<SimReport>>> {
        let policies = self.policies.len();
        let jobs = self.scenarios.len() * policies;
        let total: u64 = self
            .scenarios
            .iter()
            .map(|s| u64::from(s.days) * 1440 / u64::from(s.cycle_minutes))
            .sum::<u64>()
            * policies as u64;
        let next = AtomicUsize::new(0);
        let done = AtomicU64::new(0);
        let mut runs: Vec<Vec<Option<SimRun>>> = self
            .scenarios
            .iter()
            .map(|_| (0..policies).map(|_| None).collect())
            .collect();
        let mut remaining: Vec<usize> = vec![policies; self.scenarios.len()];
        let failure: Mutex<Option<anyhow::Error>> = Mutex::new(None);
        std::thread::scope(|scope| -> anyhow::Result<()> {
            let (sender, receiver) = mpsc::channel::<(usize, usize, anyhow::Result<SimRun>)>();
            for _ in 0..self.workers {
                let sender = sender.clone();
                let (next, done) = (&next, &done);
                scope.spawn(move || {
                    loop {
                        let job = next.fetch_add(1, Ordering::Relaxed);
                        if job >= jobs {
                            break;
                        }
                        let (s, p) = (job / policies, job % policies);
                        let result = self.run_one(s, p, sandbox, done);
                        if sender.send((s, p, result)).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(sender);
            let mut received = 0;
            while received < jobs {
                match receiver.recv_timeout(Duration::from_millis(200)) {
                    Ok((s, p, result)) => {
                        received += 1;
                        match result {
                            Ok(run) => runs[s][p] = Some(run),
                            Err(error) => {
                                // Stop handing out work; report the first failure.
                                next.store(jobs, Ordering::Relaxed);
                                failure.lock().expect("not poisoned").get_or_insert(error);
                                continue;
                            }
                        }
                        remaining[s] -= 1;
                        if remaining[s] == 0
                            && let Some(dir) = out
                        {
                            write_scenario(dir, s, &self.scenarios[s], &mut runs[s])?;
                        }
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                }
                if show_progress {
                    draw_progress(done.load(Ordering::Relaxed), total);
                }
            }
            Ok(())
        })?;
        if show_progress {
            eprint!("\r{:60}\r", "");
        }
        if let Some(error) = failure.into_inner().expect("not poisoned") {
            return Err(error);
        }
        runs.into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|run| {
                        run.map(|r| r.report)
                            .ok_or_else(|| anyhow!("a simulation did not finish"))
                    })
                    .collect()
            })
            .collect()
    }

    fn run_one(
        &self,
        scenario: usize,
        policy: usize,
        sandbox: &Arc<Sandbox>,
        done: &AtomicU64,
    ) -> anyhow::Result<SimRun> {
        let scenario = &self.scenarios[scenario];
        let policy = &self.policies[policy];
        let mut progress = |_, _| {
            done.fetch_add(1, Ordering::Relaxed);
        };
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            simulate_with(
                scenario,
                self.channels,
                policy,
                self.rebalancer,
                sandbox,
                self.options,
                &mut progress,
            )
        }))
        .map_err(|_| {
            anyhow!(
                "{} on {}: the simulation panicked",
                policy.label,
                scenario.name
            )
        })?;
        run.with_context(|| format!("{} on {}", policy.label, scenario.name))
    }
}

/// `DIR/NN-NAME/`: the scenario's report.json, chart.svg and timeseries.csv (every policy).
fn write_scenario(
    dir: &Path,
    index: usize,
    scenario: &Scenario,
    runs: &mut [Option<SimRun>],
) -> anyhow::Result<()> {
    let safe: String = scenario
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let dir = dir.join(format!("{:02}-{safe}", index + 1));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let finished: Vec<SimRun> = runs
        .iter_mut()
        .filter_map(|run| {
            run.as_mut().map(|r| SimRun {
                report: r.report.clone(),
                // Written now, then dropped: a league's timeseries would not fit in memory.
                timeseries: r.timeseries.take(),
            })
        })
        .collect();
    let reports: Vec<SimReport> = finished.iter().map(|r| r.report.clone()).collect();
    let json = serde_json::to_string_pretty(&serde_json::json!({ "reports": reports }))?;
    std::fs::write(dir.join("report.json"), json)?;
    std::fs::write(dir.join("chart.svg"), chart::render(&reports))?;
    write_timeseries(&dir.join("timeseries.csv"), &finished)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_and_builtin_variants_differ_by_seed_and_validate() {
        for family in ["small-retail", "default"] {
            let scenarios = league_scenarios(family, &[1, 2, 3]).unwrap();
            assert_eq!(scenarios.len(), 3);
            for scenario in &scenarios {
                scenario.validate().unwrap();
                let channels = scenario.channel_specs(None).len();
                assert!((10..=30).contains(&channels), "{family}: {channels}");
            }
            assert_ne!(
                scenarios[0].channel_specs(None),
                scenarios[1].channel_specs(None)
            );
            assert_eq!(scenarios, league_scenarios(family, &[1, 2, 3]).unwrap());
        }
        assert!(league_scenarios("atlantis", &[1]).is_err());
    }
}
