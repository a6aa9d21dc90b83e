//! `revops policy check`: everything an author wants to know about a component before loading
//! it on a node — what it is, what it costs, and what it decides on a sample.

use super::CheckArgs;
use crate::{
    embedded,
    model::{
        CallContext, FeeDecision, Snapshot,
        sample::{SAMPLE_NOW_SECS, sample_budget, sample_payout_input, sample_snapshot},
    },
    model::{PolicyKind, params_from_words},
    runtime::{
        Called, CompileSource, LoadRequest, LoadedPolicy, PolicySource, RuntimeLimits, Sandbox,
        loader,
    },
};
use anyhow::{Context as _, anyhow};
use serde_json::json;
use std::{path::Path, time::Duration};

pub fn list_shipped() {
    for policy in embedded::SHIPPED {
        let default =
            if policy.kind == PolicyKind::Fee && policy.name == embedded::DEFAULT_FEE_POLICY {
                " (default)"
            } else {
                ""
            };
        println!(
            "embedded:{:<16} {:<9} {}{default}",
            policy.name, policy.kind, policy.description
        );
    }
}

fn limits_from(args: &CheckArgs) -> RuntimeLimits {
    let defaults = RuntimeLimits::default();
    RuntimeLimits {
        memory_bytes: args
            .memory_mib
            .map_or(defaults.memory_bytes, |mib| mib << 20),
        deadline: args
            .deadline_ms
            .map_or(defaults.deadline, Duration::from_millis),
        fuel: match args.fuel {
            Some(0) => None,
            Some(budget) => Some(budget),
            None => defaults.fuel,
        },
        ..defaults
    }
}

fn read_source(path: &str) -> anyhow::Result<(Vec<u8>, PolicySource)> {
    if let Some(name) = path.strip_prefix("embedded:") {
        let policy = embedded::shipped(name).ok_or_else(|| {
            anyhow!("no shipped policy named {name:?} (see `revops policy shipped`)")
        })?;
        return Ok((
            policy.wasm.to_vec(),
            PolicySource::Embedded(name.to_owned()),
        ));
    }
    let path = Path::new(path);
    let bytes = loader::read_policy_file(path)?;
    Ok((bytes, PolicySource::File(path.to_owned())))
}

pub fn run(args: &CheckArgs) -> anyhow::Result<()> {
    let kind = args
        .kind
        .as_deref()
        .map(str::parse::<PolicyKind>)
        .transpose()?;
    let params =
        params_from_words(args.params.iter().map(String::as_str)).map_err(|e| anyhow!(e))?;
    let (wasm, source) = read_source(&args.path)?;
    let sandbox = Sandbox::new(args.cache_dir.as_deref()).context("starting the WASM sandbox")?;
    let policy = loader::prepare(
        &sandbox,
        LoadRequest {
            kind,
            wasm: &wasm,
            source,
            params: &params,
            limits: limits_from(args),
        },
    )?;
    let ctx = CallContext {
        now_secs: SAMPLE_NOW_SECS,
        seed: args.seed,
        ..CallContext::default()
    };
    let snapshot = sample_snapshot(args.channels, args.seed);
    let sample_run = run_sample(&policy, &ctx, &snapshot)?;
    if args.json {
        print_json(&policy, &sample_run)?;
    } else {
        print_human(&policy, &snapshot, &sample_run);
    }
    Ok(())
}

/// The sample call's outcome, per kind.
enum SampleRun {
    Fee(Called<FeeDecision>),
    Other {
        fuel_used: u64,
        elapsed: Duration,
        output: serde_json::Value,
    },
}

impl SampleRun {
    fn cost(&self) -> (u64, Duration) {
        match self {
            SampleRun::Fee(called) => (called.fuel_used, called.elapsed),
            SampleRun::Other {
                fuel_used, elapsed, ..
            } => (*fuel_used, *elapsed),
        }
    }
}

fn run_sample(
    policy: &LoadedPolicy,
    ctx: &CallContext,
    snapshot: &Snapshot,
) -> anyhow::Result<SampleRun> {
    let failed = |e| anyhow!("the sample run failed: {e}");
    Ok(match policy.kind {
        PolicyKind::Fee => SampleRun::Fee(policy.propose_fees(ctx, snapshot).map_err(failed)?),
        PolicyKind::Rebalance => {
            let called = policy
                .propose_rebalances(ctx, snapshot, &sample_budget())
                .map_err(failed)?;
            SampleRun::Other {
                fuel_used: called.fuel_used,
                elapsed: called.elapsed,
                output: json!({ "proposals": called.value.proposals }),
            }
        }
        PolicyKind::Payout => {
            let called = policy
                .propose_payouts(ctx, &sample_payout_input())
                .map_err(failed)?;
            SampleRun::Other {
                fuel_used: called.fuel_used,
                elapsed: called.elapsed,
                output: json!({
                    "lines": called.value.lines,
                    "withheld_msat": called.value.withheld,
                }),
            }
        }
    })
}

fn print_json(policy: &LoadedPolicy, sample: &SampleRun) -> anyhow::Result<()> {
    let (fuel_used, elapsed) = sample.cost();
    let output = match sample {
        SampleRun::Fee(called) => json!({ "proposals": called.value.proposals }),
        SampleRun::Other { output, .. } => output.clone(),
    };
    let report = json!({
        "describe": policy.info,
        "world": policy.kind.world(),
        "source": policy.source.to_string(),
        "size_bytes": policy.size_bytes,
        "sha256": policy.sha256_hex(),
        "compile": policy.compile,
        "wasi": policy.uses_wasi(),
        "memory_limit_bytes": policy.limits.memory_bytes,
        "params": policy.params,
        "sample_run": {
            "elapsed_us": elapsed.as_micros() as u64,
            "fuel_used": fuel_used,
            "fuel_budget": policy.limits.fuel,
            "output": output,
        },
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

fn print_human(policy: &LoadedPolicy, snapshot: &Snapshot, sample: &SampleRun) {
    let info = &policy.info;
    println!(
        "policy      {} {} — {}",
        info.name, info.version, info.description
    );
    println!("world       {}", policy.kind.world());
    println!(
        "source      {} ({} bytes)",
        policy.source, policy.size_bytes
    );
    println!("sha256      {}", policy.sha256_hex());
    println!(
        "sandbox     {} MiB memory, {}",
        policy.limits.memory_bytes >> 20,
        if policy.uses_wasi() {
            "deterministic WASI (fixed clocks, seeded random, no files/env/network)"
        } else {
            "no WASI"
        }
    );
    let how = match policy.compile.source {
        CompileSource::Compiled => "compiled",
        CompileSource::Cache => "from the precompiled cache",
    };
    println!(
        "compile     {:.1} ms ({how})",
        policy.compile.elapsed.as_secs_f64() * 1e3
    );
    println!("parameters");
    for (spec, (_, value)) in info.params.iter().zip(&policy.params.0) {
        let range = match (spec.min, spec.max) {
            (None, None) => String::new(),
            (min, max) => format!(
                " [{}, {}]",
                min.map_or("-".into(), |v| v.to_string()),
                max.map_or("-".into(), |v| v.to_string())
            ),
        };
        println!(
            "  {:<14} = {:<8} {:?}{range}  {}",
            spec.name,
            serde_json::to_string(value).unwrap_or_default(),
            spec.kind,
            spec.description
        );
    }
    let (fuel_used, elapsed) = sample.cost();
    let budget = policy.limits.fuel.map_or("unlimited".to_owned(), |b| {
        format!("{b} ({:.3} % used)", fuel_used as f64 * 100.0 / b as f64)
    });
    println!(
        "sample run  {} channels in {:.3} ms, fuel {fuel_used} of {budget}",
        snapshot.channels.len(),
        elapsed.as_secs_f64() * 1e3
    );
    match sample {
        SampleRun::Fee(called) => print_fee_table(snapshot, &called.value),
        SampleRun::Other { output, .. } => println!(
            "{}",
            serde_json::to_string_pretty(output).unwrap_or_default()
        ),
    }
}

fn print_fee_table(snapshot: &Snapshot, decision: &FeeDecision) {
    println!(
        "  {:<14} {:>9} {:>9}  {:<10} reason",
        "channel", "now ppm", "new ppm", "mode"
    );
    for proposal in &decision.proposals {
        let now = snapshot
            .channel(proposal.channel)
            .map_or(0, |c| c.fee_ppm.ppm());
        println!(
            "  {:<14} {:>9} {:>9}  {:<10} {}",
            proposal.channel.to_string(),
            now,
            proposal.fee_ppm.ppm(),
            serde_json::to_value(proposal.mode)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            proposal.reason
        );
    }
}
