//! The `revops` command line. Each subcommand lives in its own file; this one parses and
//! dispatches, and turns errors into a one-line message and a non-zero exit code.

mod chart;
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
    /// A built-in scenario (default, mempool-spike, htlc-flood, mixed-market) or a .toml/.json file.
    #[arg(long, default_value = "default")]
    pub scenario: String,
    /// Days to simulate (default: the scenario's).
    #[arg(long)]
    pub days: Option<u32>,
    /// Number of channels (default: the scenario's; more are generated from the seed).
    #[arg(long)]
    pub channels: Option<usize>,
    /// Random seed (default: the scenario's).
    #[arg(long)]
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
    /// Write report.json and chart.svg into this directory.
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
    init_logging();
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
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("REVOPS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,revops::policy=info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
