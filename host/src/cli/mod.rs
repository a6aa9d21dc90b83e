//! The `revops` command line. Each subcommand lives in its own file; this one parses and
//! dispatches, and turns errors into a one-line message and a non-zero exit code.

mod chart;
mod league;
mod league_stats;
mod league_table;
mod policy_check;
mod policy_new;
mod scenario;
mod simulate;

use clap::{Args, Parser, Subcommand};
use std::{path::PathBuf, process::ExitCode};

#[derive(Parser)]
#[command(
    name = "revops",
    version,
    about = "Revenue operations for a Core Lightning routing node"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Inspect and test policies.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Run fee policies on a simulated node and compare them (no lightningd needed).
    Simulate(SimulateArgs),
    /// List and generate simulation scenarios.
    #[command(subcommand)]
    Scenario(scenario::ScenarioCommand),
}

#[derive(Args)]
pub struct SimulateArgs {
    /// A built-in scenario (default, mempool-spike, htlc-flood, mixed-market) or a .toml/.json
    /// file (default: default). With --league, repeatable: each one joins the generated ones.
    #[arg(long = "scenario", value_name = "NAME|FILE")]
    pub scenarios: Vec<String>,
    /// Run every fee policy (shipped ones and any --policy) on many scenarios and rank them.
    #[arg(long)]
    pub league: bool,
    /// League: the scenario family to generate from (`revops scenario list`; default
    /// small-retail), or a built-in scenario whose seeded variants to run.
    #[arg(long, requires = "league")]
    pub family: Option<String>,
    /// League: how many generated scenarios (seeds 1..=N; default 30).
    #[arg(long, requires = "league", conflicts_with = "seeds")]
    pub count: Option<u64>,
    /// League: the seeds of the generated scenarios, A..B (B excluded) or A..=B.
    #[arg(long, requires = "league", value_name = "A..B")]
    pub seeds: Option<String>,
    /// Days to simulate (default: the scenario's).
    #[arg(long)]
    pub days: Option<u32>,
    /// Number of channels (default: the scenario's; more are generated from the seed).
    #[arg(long)]
    pub channels: Option<usize>,
    /// Random seed (default: the scenario's).
    #[arg(long, conflicts_with = "league")]
    pub seed: Option<u64>,
    /// A policy to run: "KIND=PATH [KEY=VALUE ...]"; PATH may be embedded:NAME. Repeatable.
    #[arg(long = "policy", value_name = "KIND=PATH")]
    pub policies: Vec<String>,
    /// Also run every shipped fee policy, side by side on the same scenario and seed.
    #[arg(long)]
    pub compare: bool,
    /// Print the full reports as JSON.
    #[arg(long)]
    pub json: bool,
    /// Write report.json, chart.svg and timeseries.csv into this directory (league: one
    /// directory per scenario, and league.json).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Load a policy component, describe it and run it once on a built-in sample node.
    Check(CheckArgs),
    /// List the policies shipped inside this binary.
    Shipped,
    /// Create a policy project from a template (builds with one command, passes `check`).
    New(NewArgs),
}

#[derive(Args)]
pub struct NewArgs {
    /// Name of the policy and of its directory.
    pub name: String,
    /// fee, rebalance or payout.
    #[arg(long, default_value = "fee")]
    pub kind: String,
    /// Template language: rust, python or js (python and js: fee policies only).
    #[arg(long, default_value = "rust")]
    pub lang: String,
    /// Where to create the project directory.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
}

#[derive(Args)]
pub struct CheckArgs {
    /// A component file, or `embedded:NAME` for a shipped policy.
    pub path: String,
    /// Expected kind (fee, rebalance, payout); default: whatever the component implements.
    #[arg(long)]
    pub kind: Option<String>,
    /// Policy parameter KEY=VALUE (repeatable).
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    /// Channels in the sample node.
    #[arg(long, default_value_t = 20)]
    pub channels: usize,
    /// Seed of the sample node.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Fuel budget (instructions, roughly) for the call; 0 = none, the deadline alone bounds it.
    #[arg(long)]
    pub fuel: Option<u64>,
    /// Memory limit in MiB.
    #[arg(long)]
    pub memory_mib: Option<usize>,
    /// Deadline in milliseconds.
    #[arg(long)]
    pub deadline_ms: Option<u64>,
    /// Directory for the precompiled-component cache (default: none).
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // A simulation's logs carry simulated time (a span per cycle), not the wall clock.
    init_logging(!matches!(cli.command, Command::Simulate(_)));
    let result = match cli.command {
        Command::Policy(PolicyCommand::Check(args)) => policy_check::run(&args),
        Command::Simulate(args) => simulate::run(&args),
        Command::Scenario(command) => scenario::run(&command),
        Command::Policy(PolicyCommand::New(args)) => policy_new::run(&args),
        Command::Policy(PolicyCommand::Shipped) => {
            policy_check::list_shipped();
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to stderr (stdout carries results). `REVOPS_LOG` takes a tracing filter.
fn init_logging(wall_clock: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("REVOPS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,revops::policy=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    if wall_clock {
        builder.init();
    } else {
        builder.without_time().init();
    }
}
