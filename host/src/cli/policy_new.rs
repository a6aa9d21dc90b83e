//! `revops policy new NAME --kind KIND`: a policy project that builds with one command and
//! passes `revops policy check` unchanged.

use super::NewArgs;
use crate::model::PolicyKind;
use anyhow::{Context as _, bail};
use std::path::Path;

const WIT: &str = include_str!("../../../wit/policy.wit");
const CARGO_TOML: &str = include_str!("../../templates/rust/Cargo.toml.tmpl");
const GLUE: &str = include_str!("../../templates/rust/glue.rs.tmpl");
const README: &str = include_str!("../../templates/rust/README.md.tmpl");
const FEE: &str = include_str!("../../templates/rust/fee.rs.tmpl");
const REBALANCE: &str = include_str!("../../templates/rust/rebalance.rs.tmpl");
const PAYOUT: &str = include_str!("../../templates/rust/payout.rs.tmpl");

pub fn run(args: &NewArgs) -> anyhow::Result<()> {
    let kind: PolicyKind = args.kind.parse()?;
    if args.lang != "rust" {
        bail!(
            "--lang {}: only rust templates exist in this version (Python and JavaScript come later)",
            args.lang
        );
    }
    let valid = !args.name.is_empty()
        && args.name.len() <= 64
        && args.name.starts_with(|c: char| c.is_ascii_lowercase())
        && args
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid {
        bail!(
            "policy name {:?}: use lowercase letters, digits, - and _, starting with a letter",
            args.name
        );
    }
    let dir = args.dir.join(&args.name);
    if dir.exists() {
        bail!(
            "{} already exists; choose another name or directory",
            dir.display()
        );
    }
    let crate_name = args.name.replace('-', "_");
    let fill = |template: &str| {
        template
            .replace("{{name}}", &args.name)
            .replace("{{crate}}", &crate_name)
            .replace("{{kind}}", kind.as_str())
    };
    let lib = match kind {
        PolicyKind::Fee => FEE,
        PolicyKind::Rebalance => REBALANCE,
        PolicyKind::Payout => PAYOUT,
    };
    let files: [(&str, String); 6] = [
        ("Cargo.toml", fill(CARGO_TOML)),
        ("README.md", fill(README)),
        ("src/lib.rs", fill(lib)),
        ("src/glue.rs", fill(GLUE)),
        ("wit/policy.wit", WIT.to_owned()),
        (".gitignore", "/target\n".to_owned()),
    ];
    for (path, content) in &files {
        write(&dir.join(path), content)?;
    }
    println!("created {kind} policy {} in {}", args.name, dir.display());
    println!(
        "build:  cd {} && cargo build --release --target wasm32-wasip2",
        dir.display()
    );
    println!(
        "check:  revops policy check {}/target/wasm32-wasip2/release/{crate_name}.wasm",
        dir.display()
    );
    Ok(())
}

fn write(path: &Path, content: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(path, content).with_context(|| format!("writing {}", path.display()))
}
