//! `revops simulate`: run fee policies through a scenario on the simulated node and compare.

use super::{SimulateArgs, chart, league};
use crate::{
    embedded,
    model::{PolicyKind, params_from_words},
    runtime::{PolicySource, Sandbox, loader},
    sim::{CSV_HEADER, PolicyUnderTest, Scenario, SimOptions, SimReport, SimRun, simulate_with},
};
use anyhow::{Context as _, anyhow, bail};
use serde_json::json;
use std::{
    io::{IsTerminal, Write},
    path::Path,
    sync::atomic::{AtomicU64, Ordering},
};

pub fn run(args: &SimulateArgs) -> anyhow::Result<()> {
    if args.league {
        return league::run(args);
    }
    let name = match args.scenarios.as_slice() {
        [] => "default",
        [one] => one.as_str(),
        _ => bail!("--scenario: one scenario per run (several need --league)"),
    };
    let mut scenario = load_scenario(name)?;
    if let Some(days) = args.days {
        scenario.days = days;
    }
    if let Some(seed) = args.seed {
        scenario.seed = seed;
    }
    scenario.validate()?;
    let (policies, rebalancer) = policies_to_run(args)?;
    // One thread per policy, each making one call at a time.
    let sandbox = Sandbox::for_simulation(u32::try_from(policies.len()).unwrap_or(u32::MAX))
        .context("starting the WASM sandbox")?;
    let channel_count = scenario.channel_specs(args.channels).len();
    let show_progress = !args.json && std::io::stderr().is_terminal();
    if !args.json {
        let rebalancing = rebalancer
            .as_ref()
            .map_or_else(String::new, |r| format!(", rebalancing with {}", r.label));
        eprintln!(
            "simulating {}{rebalancing} on {:?}: {channel_count} channels, {} days, seed {}",
            names(&policies),
            scenario.name,
            scenario.days,
            scenario.seed
        );
    }

    let done = AtomicU64::new(0);
    let total =
        policies.len() as u64 * u64::from(scenario.days) * 1440 / u64::from(scenario.cycle_minutes);
    let options = SimOptions {
        hourly: args.out.is_some(),
    };
    let runs: Vec<anyhow::Result<SimRun>> = std::thread::scope(|scope| {
        let handles: Vec<_> = policies
            .iter()
            .map(|policy| {
                let (scenario, sandbox, done) = (&scenario, &sandbox, &done);
                let rebalancer = rebalancer.as_ref();
                scope.spawn(move || {
                    let mut progress = |_, _| {
                        let now = done.fetch_add(1, Ordering::Relaxed) + 1;
                        if show_progress && now % 50 == 0 {
                            draw_progress(now, total);
                        }
                    };
                    simulate_with(
                        scenario,
                        args.channels,
                        policy,
                        rebalancer,
                        sandbox,
                        options,
                        &mut progress,
                    )
                    .map_err(anyhow::Error::from)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow!("a simulation thread panicked")))
            })
            .collect()
    });
    if show_progress {
        eprint!("\r{:60}\r", "");
    }
    let runs: Vec<SimRun> = runs.into_iter().collect::<anyhow::Result<_>>()?;
    if let Some(dir) = &args.out {
        write_out(dir, &runs)?;
        if !args.json {
            eprintln!(
                "wrote {0}/report.json, {0}/chart.svg and {0}/timeseries.csv",
                dir.display()
            );
        }
    }
    let reports: Vec<SimReport> = runs.into_iter().map(|r| r.report).collect();

    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "reports": reports }))?
        );
    } else {
        print_table(&scenario, &reports, rebalancer.as_ref());
    }
    Ok(())
}

pub(super) fn load_scenario(name_or_path: &str) -> anyhow::Result<Scenario> {
    let path = Path::new(name_or_path);
    if path.exists() {
        return Ok(Scenario::from_file(path)?);
    }
    Ok(Scenario::builtin(name_or_path)?)
}

/// Which fee policies run: the `--policy fee=…` ones, the shipped baselines too with
/// `--compare`, or just the default fee policy. Plus at most one rebalance policy, which
/// runs alongside every fee policy.
pub(super) fn policies_to_run(
    args: &SimulateArgs,
) -> anyhow::Result<(Vec<PolicyUnderTest>, Option<PolicyUnderTest>)> {
    let mut policies = Vec::new();
    let mut rebalancer = None;
    for spec in &args.policies {
        let (kind, policy) = parse_policy(spec)?;
        match kind {
            PolicyKind::Fee => policies.push(policy),
            PolicyKind::Rebalance if rebalancer.is_none() => rebalancer = Some(policy),
            PolicyKind::Rebalance => {
                bail!("--policy rebalance=…: give at most one rebalance policy")
            }
            PolicyKind::Payout => {
                bail!("--policy payout=…: the simulator runs fee and rebalance policies only")
            }
        }
    }
    if args.compare || args.league || policies.is_empty() {
        let shipped = embedded::SHIPPED
            .iter()
            .filter(|p| p.kind == PolicyKind::Fee)
            .filter(|p| args.compare || args.league || p.name == embedded::DEFAULT_FEE_POLICY);
        for policy in shipped {
            if !policies.iter().any(|p| p.label == policy.name) {
                policies.push(embedded_policy(policy.name)?);
            }
        }
    }
    Ok((policies, rebalancer))
}

fn embedded_policy(name: &str) -> anyhow::Result<PolicyUnderTest> {
    let policy = embedded::shipped(name)
        .ok_or_else(|| anyhow!("no shipped policy named {name:?} (see `revops policy shipped`)"))?;
    Ok(PolicyUnderTest {
        label: name.to_owned(),
        wasm: policy.wasm.to_vec(),
        source: PolicySource::Embedded(name.to_owned()),
        params: Default::default(),
    })
}

/// `KIND=PATH [KEY=VALUE ...]`, e.g. `fee=my.wasm min-ppm=5` or `fee=embedded:static`.
fn parse_policy(spec: &str) -> anyhow::Result<(PolicyKind, PolicyUnderTest)> {
    let mut words = spec.split_whitespace();
    let head = words.next().ok_or_else(|| anyhow!("empty --policy"))?;
    let (kind, path) = head
        .split_once('=')
        .ok_or_else(|| anyhow!("--policy {head:?}: expected KIND=PATH, e.g. fee=my_policy.wasm"))?;
    let kind: PolicyKind = kind.parse()?;
    let params = params_from_words(words).map_err(|e| anyhow!(e))?;
    let mut policy = match path.strip_prefix("embedded:") {
        Some(name) => embedded_policy(name)?,
        None => PolicyUnderTest {
            label: Path::new(path)
                .file_stem()
                .map_or_else(|| path.to_owned(), |s| s.to_string_lossy().into_owned()),
            wasm: loader::read_policy_file(Path::new(path))?,
            source: PolicySource::File(path.into()),
            params: Default::default(),
        },
    };
    if !params.is_empty() {
        let shown: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        policy.label = format!("{} ({})", policy.label, shown.join(" "));
        policy.params = params;
    }
    Ok((kind, policy))
}

pub(super) fn names(policies: &[PolicyUnderTest]) -> String {
    policies
        .iter()
        .map(|p| p.label.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn draw_progress(done: u64, total: u64) {
    let width = 40;
    let filled = (done * width / total.max(1)) as usize;
    eprint!(
        "\r[{}{}] {:>3} %",
        "#".repeat(filled),
        " ".repeat(width as usize - filled),
        done * 100 / total.max(1)
    );
    let _ = std::io::stderr().flush();
}

pub(super) fn sat(msat: u64) -> String {
    let sat = msat / 1000;
    let digits = sat.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

pub(super) fn signed_sat(msat: i64) -> String {
    let magnitude = sat(msat.unsigned_abs());
    if msat < 0 && magnitude != "0" {
        format!("-{magnitude}")
    } else {
        magnitude
    }
}

fn print_table(scenario: &Scenario, reports: &[SimReport], rebalancer: Option<&PolicyUnderTest>) {
    let Some(first) = reports.first() else {
        return;
    };
    println!(
        "scenario {} — {} channels, {} days, seed {}",
        scenario.name, first.channels, scenario.days, scenario.seed
    );
    println!();
    println!(
        "{:<28} {:>12} {:>9} {:>12} {:>9} {:>8} {:>9} {:>10} {:>8} {:>9}",
        "policy",
        "revenue sat",
        "costs sat",
        "net sat",
        "forwards",
        "failed",
        "bcast/ch/d",
        "suppressed",
        "clamped",
        "avg local"
    );
    for r in reports {
        println!(
            "{:<28} {:>12} {:>9} {:>12} {:>9} {:>8} {:>9.2} {:>10} {:>8} {:>9.2}",
            truncate(&r.policy, 28),
            sat(r.revenue_msat),
            sat(r.costs_msat),
            signed_sat(r.net_msat),
            r.forwards_settled,
            r.forwards_failed_local,
            r.broadcasts_per_channel_day,
            r.verdicts.suppressed,
            r.verdicts.clamped,
            r.final_local_share_mean
        );
    }
    println!();
    for line in LEGEND {
        println!("{}", wrap(line, WRAP, ""));
    }
    let rebalancing = rebalancer.map_or_else(
        || "none without a rebalance policy (add one with --policy rebalance=embedded:rebalance-ev)".to_owned(),
        |r| format!("paid by {} (hourly)", r.label),
    );
    println!(
        "{}",
        wrap(
            &format!(
                "costs = on-chain fees of the channels the scenario opens and closes, plus fees \
                 for circular rebalances: {rebalancing}; net = revenue − costs."
            ),
            WRAP,
            ""
        )
    );
    if rebalancer.is_some() {
        println!();
        for report in reports {
            print_rebalancing(report);
        }
    }
    for r in reports.iter().filter(|r| r.policy_errors > 0) {
        println!(
            "warning: {} failed to decide in {} cycles",
            r.policy, r.policy_errors
        );
    }
}

fn print_rebalancing(report: &SimReport) {
    let percent = |part: u64, whole: u64| {
        part.saturating_mul(100)
            .checked_div(whole)
            .map_or_else(|| "n/a".to_owned(), |p| format!("{p} %"))
    };
    println!(
        "{:<28} rebalances sent {}, completed {} ({}); spend {} of revenue",
        truncate(&report.policy, 28),
        report.rebalances_sent,
        report.rebalances_completed,
        percent(report.rebalances_completed, report.rebalances_sent),
        percent(report.rebalance_fees_msat, report.revenue_msat)
    );
    let defib = &report.defibrillator;
    let names = |labels: &[String]| {
        if labels.is_empty() {
            "none".to_owned()
        } else {
            labels.join(", ")
        }
    };
    let indent = " ".repeat(29);
    let mut text = format!(
        "defibrillator: {} diagnostic rebalances ({} completed) and {} zero-fee probes ({} routed) \
         on channels the fee policy priced at zero; zombies at the end: {}; stagnant: {}.",
        defib.diagnostics_sent,
        defib.diagnostics_completed,
        defib.probes,
        defib.probes_routed,
        names(&defib.zombies),
        names(&defib.stagnant)
    );
    if defib.probes_unpriced > 0 || !defib.untested_zombies.is_empty() {
        text.push_str(&format!(
            " Untested: {} probes the fee policy kept a fee on ({} diagnostic rebalances went \
             to them); zombie by rule but never probed at zero: {}.",
            defib.probes_unpriced,
            defib.diagnostics_untested,
            names(&defib.untested_zombies)
        ));
    }
    println!("{indent}{}", wrap(&text, WRAP, &indent));
}

/// Width of the explanatory text under the table.
const WRAP: usize = 100;

/// What the table's columns mean.
const LEGEND: &[&str] = &[
    "failed = forwards we could not make (no liquidity or no free HTLC slot on our side).",
    "bcast/ch/d = fee broadcasts per channel per day; avg local = mean local share at the end.",
    "suppressed = proposals the host's guards sent nothing for (gossip hysteresis, the daily \
     broadcast limit, the minimum interval, or the policy holding the channel); the fee stayed.",
    "clamped = proposals the guards changed before broadcasting (kept within the fee bounds, \
     the maximum step per change, or the base-fee ceiling).",
];

/// Word-wraps `text` to `width` columns; lines after the first start with `indent` (the first
/// line's own indent is the caller's, assumed as wide).
pub(super) fn wrap(text: &str, width: usize, indent: &str) -> String {
    let room = width.saturating_sub(indent.chars().count()).max(20);
    let mut lines: Vec<String> = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines.last_mut().expect("one line at least");
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > room {
            lines.push(word.to_owned());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines.join(&format!("\n{indent}"))
}

pub(super) fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(width - 1).collect();
    cut.push('…');
    cut
}

fn write_out(dir: &Path, runs: &[SimRun]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let reports: Vec<&SimReport> = runs.iter().map(|r| &r.report).collect();
    let json = serde_json::to_string_pretty(&json!({ "reports": reports }))?;
    std::fs::write(dir.join("report.json"), json)?;
    let reports: Vec<SimReport> = reports.into_iter().cloned().collect();
    std::fs::write(dir.join("chart.svg"), chart::render(&reports))?;
    write_timeseries(&dir.join("timeseries.csv"), runs)
}

/// `timeseries.csv`: every channel, every hour, every policy of `runs`.
pub(super) fn write_timeseries(path: &Path, runs: &[SimRun]) -> anyhow::Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    writeln!(out, "{CSV_HEADER}")?;
    for run in runs {
        if let Some(series) = &run.timeseries {
            let r = &run.report;
            series.write_csv(&mut out, &r.scenario, r.seed, &r.policy)?;
        }
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrapping_keeps_words_and_indents_continuations() {
        let text = "one two three four five six seven eight nine ten eleven twelve";
        let wrapped = wrap(text, 24, "  ");
        for line in wrapped.lines() {
            assert!(line.chars().count() <= 24, "{line:?}");
        }
        assert!(wrapped.lines().skip(1).all(|l| l.starts_with("  ")));
        let words: Vec<&str> = wrapped.split_whitespace().collect();
        assert_eq!(words.join(" "), text);
    }
}
