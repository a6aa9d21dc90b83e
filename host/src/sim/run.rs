//! Runs one fee policy through a scenario: the real cycle, a simulated node, simulated time.

use super::{
    network::SimNetwork,
    report::{ChannelSummary, DefibrillatorSummary, Series, SimReport, TrackedChannel, round4},
    scenario::Scenario,
    timeseries::{HourlySampler, Timeseries},
};
use crate::{
    analytics::{
        FlowTracker,
        profitability::{WINDOW_DAYS, open_costs, profitability},
    },
    config::ConfigSnapshot,
    cycle::{
        CycleDeps, CycleError, FeeCycleReport, VerdictCounts, ingest_forwards, run_fee_cycle,
        run_rebalance_cycle,
    },
    guards::fee::FeeVerdict,
    model::{PolicyKind, ProfitabilityClass},
    node::Node,
    rng::SplitMix64,
    runtime::{Canary, LoadError, PolicySource, Registry, RuntimeLimits, Sandbox},
    scid::ShortChannelId,
    store::{ProbeRecord, Store, StoreError},
};
use serde_json::Value;
use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::Arc,
};

const SLOT: &str = "simulated";
/// Rebalance cycles run every this many fee cycles (hourly at the default 10 minutes).
const REBALANCE_EVERY: u64 = 6;
/// Channels whose fee and balance are charted.
const TRACKED_CHANNELS: usize = 4;
/// At most this many points per series.
const SERIES_POINTS: u64 = 400;

/// A fee policy to simulate.
pub struct PolicyUnderTest {
    pub label: String,
    pub wasm: Vec<u8>,
    pub source: PolicySource,
    pub params: BTreeMap<String, Value>,
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("policy {label}: {source}")]
    Load { label: String, source: LoadError },
    #[error(transparent)]
    Cycle(#[from] CycleError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Node(#[from] crate::node::NodeError),
}

/// What a run records beyond its report.
#[derive(Copy, Clone, Debug, Default)]
pub struct SimOptions {
    /// Sample every channel every simulated hour (`SimRun::timeseries`).
    pub hourly: bool,
}

/// A run's report and, when asked for, its hourly timeseries.
pub struct SimRun {
    pub report: SimReport,
    pub timeseries: Option<Timeseries>,
}

/// Simulates `policy` on `scenario` (optionally with `channels` channels) and reports. With
/// a `rebalancer`, a rebalance cycle runs every hour and its fees count among the run's costs.
/// `progress(done, total)` is called after every cycle.
pub fn simulate(
    scenario: &Scenario,
    channels: Option<usize>,
    policy: &PolicyUnderTest,
    rebalancer: Option<&PolicyUnderTest>,
    sandbox: &Arc<Sandbox>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<SimReport, SimError> {
    let run = simulate_with(
        scenario,
        channels,
        policy,
        rebalancer,
        sandbox,
        SimOptions::default(),
        progress,
    )?;
    Ok(run.report)
}

/// `simulate`, recording what `options` asks for besides the report.
pub fn simulate_with(
    scenario: &Scenario,
    channels: Option<usize>,
    policy: &PolicyUnderTest,
    rebalancer: Option<&PolicyUnderTest>,
    sandbox: &Arc<Sandbox>,
    options: SimOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<SimRun, SimError> {
    let registry = Registry::new(sandbox.clone(), None, 3);
    let load = |kind: PolicyKind, policy: &PolicyUnderTest| {
        registry
            .load_bytes(
                kind,
                SLOT,
                &policy.wasm,
                policy.source.clone(),
                &policy.params,
                RuntimeLimits::default(),
                &Canary::sample(kind),
            )
            .map(drop)
            .map_err(|source| SimError::Load {
                label: policy.label.clone(),
                source,
            })
    };
    load(PolicyKind::Fee, policy)?;
    if let Some(rebalancer) = rebalancer {
        load(PolicyKind::Rebalance, rebalancer)?;
    }
    // Same schema and code path as on disk, without the file system.
    let mut store = Store::open_in_memory()?;
    let mut network = SimNetwork::new(scenario, channels);
    let mut flows = FlowTracker::default();
    let config = ConfigSnapshot::default();
    let mut seeds = SplitMix64::new(scenario.seed ^ 0xFEE5);

    let cycle_secs = u64::from(scenario.cycle_minutes) * 60;
    let total = u64::from(scenario.days) * 86_400 / cycle_secs;
    let sample_every = total.div_ceil(SERIES_POINTS).max(1);
    let ids = network.channel_ids();
    let labels = network.labels();
    let mut series = Series {
        tracked: ids
            .iter()
            .zip(&labels)
            .take(TRACKED_CHANNELS)
            .map(|(id, label)| TrackedChannel {
                channel: *id,
                label: label.clone(),
                fee_ppm: Vec::new(),
                local_share: Vec::new(),
            })
            .collect(),
        ..Series::default()
    };
    let mut hourly = options.hourly.then(|| {
        HourlySampler::new(
            scenario.start,
            ids.iter().copied().zip(labels.iter().cloned()).collect(),
        )
    });
    let mut zero_priced = ZeroPriced::default();
    let mut verdicts = VerdictCounts::default();
    let mut policy_errors = 0;
    for step in 0..total {
        let now = network.now_secs();
        let _clock = tracing::warn_span!(
            "sim",
            policy = %policy.label,
            at = %sim_clock(now.saturating_sub(scenario.start))
        )
        .entered();
        ingest_forwards(&network, &mut store, &mut flows)?;
        if let Some(hourly) = &mut hourly
            && hourly.hour_passed(now)
        {
            hourly.sample(now, &network.fees_ppm(), &network.local_shares(), &flows);
        }
        let mut deps = CycleDeps {
            node: &mut network,
            store: &mut store,
            registry: &registry,
            flows: &mut flows,
        };
        if rebalancer.is_some() && step % REBALANCE_EVERY == REBALANCE_EVERY - 1 {
            let rebalancing =
                run_rebalance_cycle(&mut deps, &config, SLOT, seeds.next_u64(), false)?;
            policy_errors += u64::from(rebalancing.policy_error.is_some());
        }
        let report = run_fee_cycle(&mut deps, &config, SLOT, seeds.next_u64(), false)?;
        add_counts(&mut verdicts, &report.counts);
        policy_errors += u64::from(report.policy_error.is_some());
        zero_priced.observe(&report, now);
        if let Some(hourly) = &mut hourly {
            hourly.observe(&report);
        }
        if step % sample_every == 0 {
            sample(&mut series, &network);
        }
        network.advance_to(scenario.start + (step + 1) * cycle_secs);
        progress(step + 1, total);
    }
    ingest_forwards(&network, &mut store, &mut flows)?;
    sample(&mut series, &network);
    let end = network.now_secs();
    if let Some(hourly) = &mut hourly {
        hourly.sample(end, &network.fees_ppm(), &network.local_shares(), &flows);
    }
    let report = summarize(
        scenario,
        policy,
        rebalancer,
        &network,
        &store,
        total,
        verdicts,
        policy_errors,
        series,
        &zero_priced,
    )?;
    Ok(SimRun {
        report,
        timeseries: hourly.map(HourlySampler::finish),
    })
}

/// Simulated time since the start, for logs: `day 3 14:20`.
fn sim_clock(elapsed_secs: u64) -> String {
    format!(
        "day {} {:02}:{:02}",
        elapsed_secs / 86_400,
        elapsed_secs % 86_400 / 3600,
        elapsed_secs % 3600 / 60
    )
}

/// When each channel's fee stood at zero: a probe counts only where the fee policy actually
/// priced it at zero (a policy that ignores `probe_active` never probes).
#[derive(Default)]
struct ZeroPriced {
    /// channel → [from, to) spans; an open span has `to == u64::MAX`.
    spans: HashMap<ShortChannelId, Vec<(u64, u64)>>,
}

impl ZeroPriced {
    fn observe(&mut self, report: &FeeCycleReport, now: u64) {
        for outcome in &report.outcomes {
            let FeeVerdict::Apply { fee_ppm, .. } = &outcome.verdict else {
                continue;
            };
            if outcome.error.is_some() {
                continue;
            }
            let spans = self.spans.entry(outcome.proposal.channel).or_default();
            let open = spans.last().is_some_and(|&(_, to)| to == u64::MAX);
            match (fee_ppm.ppm() == 0, open) {
                (true, false) => spans.push((now, u64::MAX)),
                (false, true) => spans.last_mut().expect("open span").1 = now,
                _ => {}
            }
        }
    }

    /// Whether the channel's fee was zero at some time during `probe`.
    fn priced(&self, probe: &ProbeRecord) -> bool {
        let end = probe
            .ended_at
            .unwrap_or(probe.until)
            .max(probe.started_at + 1);
        self.spans.get(&probe.channel).is_some_and(|spans| {
            spans
                .iter()
                .any(|&(from, to)| from < end && to > probe.started_at)
        })
    }
}

fn sample(series: &mut Series, network: &SimNetwork) {
    use crate::node::Node as _;
    let stats = network.stats();
    series.at_secs.push(network.now_secs());
    series
        .cumulative_revenue_msat
        .push(stats.fees_earned.msat());
    series.cumulative_broadcasts.push(stats.fee_updates);
    series
        .cumulative_failed_forwards
        .push(stats.forwards_failed_local);
    let fees = network.fees_ppm();
    let shares = network.local_shares();
    let count = fees.len().max(1);
    series
        .mean_fee_ppm
        .push(fees.iter().map(|&f| u64::from(f)).sum::<u64>() / count as u64);
    series
        .mean_local_share
        .push(round4(shares.iter().sum::<f64>() / count as f64));
    for (index, tracked) in series.tracked.iter_mut().enumerate() {
        tracked.fee_ppm.push(fees[index]);
        tracked.local_share.push(round4(shares[index]));
    }
}

fn add_counts(total: &mut VerdictCounts, cycle: &VerdictCounts) {
    total.applied += cycle.applied;
    total.clamped += cycle.clamped;
    total.suppressed += cycle.suppressed;
    total.unchanged += cycle.unchanged;
    total.failed += cycle.failed;
}

/// Each channel's profitability class at the end of the run, as the plugin would report it.
fn final_classes(
    network: &SimNetwork,
    store: &Store,
) -> Result<HashMap<ShortChannelId, ProfitabilityClass>, SimError> {
    let now = network.now_secs();
    let activity =
        store.channel_activity_windows(WINDOW_DAYS.map(|d| now.saturating_sub(d * 86_400)))?;
    let channels = network.channels()?;
    let mut facts = store.channel_history(now)?;
    facts.open_costs = network
        .onchain_fees(0)?
        .map(|fees| open_costs(&channels, &fees));
    let report = profitability(&channels, network.info()?.blockheight, &activity, &facts);
    Ok(report.into_iter().map(|c| (c.channel, c.class)).collect())
}

#[allow(
    clippy::too_many_arguments,
    reason = "assembles the report from the run's parts"
)]
fn summarize(
    scenario: &Scenario,
    policy: &PolicyUnderTest,
    rebalancer: Option<&PolicyUnderTest>,
    network: &SimNetwork,
    store: &Store,
    cycles: u64,
    verdicts: VerdictCounts,
    policy_errors: u64,
    series: Series,
    zero_priced: &ZeroPriced,
) -> Result<SimReport, SimError> {
    let stats = network.stats();
    let classes = final_classes(network, store)?;
    let labels = network.labels();
    let labelled = |wanted: ProfitabilityClass| -> Vec<String> {
        network
            .channel_ids()
            .iter()
            .zip(&labels)
            .filter(|(id, _)| classes.get(id) == Some(&wanted))
            .map(|(_, label)| label.clone())
            .collect()
    };
    // The defibrillator tests a channel with a diagnostic rebalance and a zero-fee probe; only
    // where the fee policy priced the probe at zero did the test happen, so only there do its
    // diagnostics, probes and zombie verdicts count. The rest is reported as untested.
    let probes = store.probe_history(u32::MAX)?;
    let (priced, unpriced): (Vec<&ProbeRecord>, Vec<&ProbeRecord>) =
        probes.iter().partition(|p| zero_priced.priced(p));
    let tested: HashSet<ShortChannelId> = priced.iter().map(|p| p.channel).collect();
    let diagnostics = store.diagnostic_histories(0)?;
    let tested_diagnostics = || {
        diagnostics
            .iter()
            .filter(|(channel, _)| tested.contains(channel))
            .map(|(_, h)| h)
    };
    let zombies = labelled(ProfitabilityClass::Zombie);
    let tested_label = |label: &String| {
        network
            .channel_ids()
            .iter()
            .zip(&labels)
            .any(|(id, l)| l == label && tested.contains(id))
    };
    let (zombies, untested_zombies): (Vec<String>, Vec<String>) =
        zombies.into_iter().partition(|label| tested_label(label));
    let defibrillator = DefibrillatorSummary {
        diagnostics_sent: tested_diagnostics().map(|h| u64::from(h.attempts)).sum(),
        diagnostics_completed: tested_diagnostics().map(|h| u64::from(h.successes)).sum(),
        diagnostics_untested: diagnostics
            .iter()
            .filter(|(channel, _)| !tested.contains(channel))
            .map(|(_, h)| u64::from(h.attempts))
            .sum(),
        probes: priced.len() as u64,
        probes_routed: priced
            .iter()
            .filter(|p| p.end_reason.as_deref() == Some("routed"))
            .count() as u64,
        probes_unpriced: unpriced.len() as u64,
        stagnant: labelled(ProfitabilityClass::StagnantCandidate),
        zombies,
        untested_zombies,
    };
    let broadcasts = store.broadcast_counts_since(0)?;
    let shares = network.local_shares();
    let fees = network.fees_ppm();
    let channel_details: Vec<ChannelSummary> = network
        .channel_ids()
        .into_iter()
        .zip(network.labels())
        .enumerate()
        .map(|(index, (channel, label))| ChannelSummary {
            channel,
            label,
            final_fee_ppm: fees[index],
            final_local_share: round4(shares[index]),
            broadcasts: broadcasts.get(&channel).copied().unwrap_or(0),
            final_class: classes.get(&channel).copied().unwrap_or_default(),
        })
        .collect();
    let channel_count = channel_details.len();
    let revenue = stats.fees_earned.msat();
    let rebalance_fees = stats.rebalance_fees_paid.msat();
    let onchain_fees = stats.onchain_fees_paid.msat();
    let costs = rebalance_fees.saturating_add(onchain_fees);
    Ok(SimReport {
        policy: policy.label.clone(),
        scenario: scenario.name.clone(),
        seed: scenario.seed,
        days: scenario.days,
        channels: channel_count,
        cycles,
        revenue_msat: revenue,
        costs_msat: costs,
        rebalance_fees_msat: rebalance_fees,
        onchain_fees_msat: onchain_fees,
        net_msat: i64::try_from(revenue).unwrap_or(i64::MAX)
            - i64::try_from(costs).unwrap_or(i64::MAX),
        rebalancer: rebalancer.map(|r| r.label.clone()),
        rebalances_sent: stats.rebalances_sent,
        rebalances_completed: stats.rebalances_completed,
        defibrillator,
        forwards_settled: stats.forwards_settled,
        forwards_failed_local: stats.forwards_failed_local,
        forwards_failed_downstream: stats.forwards_failed_downstream,
        lost_to_competitors: stats.lost_to_competitors,
        lost_no_inbound: stats.lost_no_inbound,
        fee_broadcasts: stats.fee_updates,
        broadcasts_per_channel_day: round4(
            stats.fee_updates as f64 / (channel_count.max(1) as f64 * f64::from(scenario.days)),
        ),
        verdicts,
        policy_errors,
        final_local_share_mean: round4(shares.iter().sum::<f64>() / channel_count.max(1) as f64),
        depleted_channels: shares.iter().filter(|&&s| s < 0.1).count(),
        full_channels: shares.iter().filter(|&&s| s > 0.9).count(),
        channel_details,
        series,
    })
}
