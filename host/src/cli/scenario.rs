//! `revops scenario`: list the built-in scenarios and families, and generate a scenario of a
//! family from a seed.

use crate::sim::{
    Scenario,
    families::{FAMILIES, family_names, generate, to_toml},
    scenario::BUILTIN,
};
use anyhow::{Context as _, anyhow};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum ScenarioCommand {
    /// The built-in scenarios and the scenario families, with what they hold.
    List,
    /// Write a random scenario of a family (TOML; to stdout without --out).
    Generate(GenerateArgs),
}

#[derive(Args)]
pub struct GenerateArgs {
    /// The family (see `revops scenario list`).
    #[arg(long)]
    pub family: String,
    /// The seed: the same family and seed always give the same scenario, and it is the
    /// scenario's own seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Write the scenario to this file instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(command: &ScenarioCommand) -> anyhow::Result<()> {
    match command {
        ScenarioCommand::List => {
            print!("{}", list());
            Ok(())
        }
        ScenarioCommand::Generate(args) => {
            let scenario = generate(&args.family, args.seed).ok_or_else(|| {
                anyhow!(
                    "no scenario family {:?}; families: {}",
                    args.family,
                    family_names()
                )
            })?;
            scenario.validate()?;
            let text = to_toml(&scenario, &args.family);
            match &args.out {
                Some(path) => {
                    std::fs::write(path, text)
                        .with_context(|| format!("writing {}", path.display()))?;
                    eprintln!("wrote {}: {}", path.display(), scenario.description);
                }
                None => print!("{text}"),
            }
            Ok(())
        }
    }
}

fn list() -> String {
    let mut out = String::from("Built-in scenarios (revops simulate --scenario NAME):\n");
    for (name, _) in BUILTIN {
        let description = Scenario::builtin(name)
            .map(|s| s.description)
            .unwrap_or_default();
        out.push_str(&format!("  {name:<18} {description}\n"));
    }
    out.push_str("\nFamilies (revops scenario generate --family NAME --seed N [--out FILE]):\n");
    for (name, description) in FAMILIES {
        out.push_str(&format!("  {name:<18} {description}\n"));
    }
    out.push_str("\nExample files: host/scenarios/examples/*.toml in the source tree.\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_names_every_builtin_and_family() {
        let text = list();
        for (name, _) in BUILTIN.iter().chain(FAMILIES) {
            assert!(text.contains(name), "{name}");
        }
    }
}
