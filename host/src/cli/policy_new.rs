//! `revops policy new NAME --kind KIND [--lang rust|python|js]`: a policy project that builds
//! with one command and passes `revops policy check` unchanged. Every kind has a template in
//! every language, and the three languages decide exactly alike.

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
const PY_APP: &str = include_str!("../../templates/python/app.py.tmpl");
const PY_REBALANCE: &str = include_str!("../../templates/python/rebalance.py.tmpl");
const PY_PAYOUT: &str = include_str!("../../templates/python/payout.py.tmpl");
const PY_BUILD: &str = include_str!("../../templates/python/build.sh.tmpl");
const PY_README: &str = include_str!("../../templates/python/README.md.tmpl");
const PY_REQUIREMENTS: &str = include_str!("../../templates/python/requirements.txt");
const JS_POLICY: &str = include_str!("../../templates/js/policy.js.tmpl");
const JS_REBALANCE: &str = include_str!("../../templates/js/rebalance.js.tmpl");
const JS_PAYOUT: &str = include_str!("../../templates/js/payout.js.tmpl");
const JS_BUILD: &str = include_str!("../../templates/js/build.sh.tmpl");
const JS_README: &str = include_str!("../../templates/js/README.md.tmpl");
const JS_PACKAGE: &str = include_str!("../../templates/js/package.json");
const JS_LOCK: &str = include_str!("../../templates/js/package-lock.json");

#[derive(Copy, Clone, PartialEq, Eq)]
enum Lang {
    Rust,
    Python,
    Js,
}

pub fn run(args: &NewArgs) -> anyhow::Result<()> {
    let kind: PolicyKind = args.kind.parse()?;
    let lang = match args.lang.as_str() {
        "rust" => Lang::Rust,
        "python" | "py" => Lang::Python,
        "js" | "javascript" => Lang::Js,
        other => bail!("--lang {other}: choose rust, python or js"),
    };
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
            .replace("{{try}}", try_it(kind))
            .replace("{{name}}", &args.name)
            .replace("{{crate}}", &crate_name)
            .replace("{{kind}}", kind.as_str())
    };
    let files: Vec<(&str, String)> = match lang {
        Lang::Rust => {
            let lib = match kind {
                PolicyKind::Fee => FEE,
                PolicyKind::Rebalance => REBALANCE,
                PolicyKind::Payout => PAYOUT,
            };
            vec![
                ("Cargo.toml", fill(CARGO_TOML)),
                ("README.md", fill(README)),
                ("src/lib.rs", fill(lib)),
                ("src/glue.rs", fill(GLUE)),
                (".gitignore", "/target\n".to_owned()),
            ]
        }
        Lang::Python => vec![
            (
                "app.py",
                fill(pick(kind, [PY_APP, PY_REBALANCE, PY_PAYOUT])),
            ),
            ("build.sh", fill(PY_BUILD)),
            ("requirements.txt", PY_REQUIREMENTS.to_owned()),
            ("README.md", fill(PY_README)),
            (".gitignore", "/target\n__pycache__/\n".to_owned()),
        ],
        Lang::Js => vec![
            (
                "policy.js",
                fill(pick(kind, [JS_POLICY, JS_REBALANCE, JS_PAYOUT])),
            ),
            ("build.sh", fill(JS_BUILD)),
            ("package.json", JS_PACKAGE.to_owned()),
            ("package-lock.json", JS_LOCK.to_owned()),
            ("README.md", fill(JS_README)),
            (".gitignore", "/target\n/node_modules\n".to_owned()),
        ],
    };
    for (path, content) in files.iter().chain([&("wit/policy.wit", WIT.to_owned())]) {
        write(&dir.join(path), content)?;
    }
    println!("created {kind} policy {} in {}", args.name, dir.display());
    let wasm = match lang {
        Lang::Rust => {
            println!(
                "build:  cd {} && cargo build --release --target wasm32-wasip2",
                dir.display()
            );
            format!("target/wasm32-wasip2/release/{crate_name}.wasm")
        }
        Lang::Python | Lang::Js => {
            make_executable(&dir.join("build.sh"))?;
            println!("build:  {}/build.sh", dir.display());
            format!("target/{}.wasm", args.name)
        }
    };
    println!("check:  revops policy check {}/{wasm}", dir.display());
    Ok(())
}

/// The template of `kind` among [fee, rebalance, payout].
fn pick(kind: PolicyKind, [fee, rebalance, payout]: [&'static str; 3]) -> &'static str {
    match kind {
        PolicyKind::Fee => fee,
        PolicyKind::Rebalance => rebalance,
        PolicyKind::Payout => payout,
    }
}

/// The README's "then try it" commands for a Python or JavaScript policy of `kind`.
fn try_it(kind: PolicyKind) -> &'static str {
    match kind {
        PolicyKind::Fee => {
            "revops simulate --policy \"fee=target/{{name}}.wasm\" --compare
cp target/{{name}}.wasm <lightning-dir>/revops/policies/
lightning-cli revenue-policy-shadow fee {{name}}.wasm      # decide beside the active policy
lightning-cli revenue-policy-compare fee                  # …and see where you differ
lightning-cli revenue-policy-load fee default {{name}}.wasm
"
        }
        PolicyKind::Rebalance => {
            "revops simulate --policy rebalance=target/{{name}}.wasm   # beside the default fee policy
cp target/{{name}}.wasm <lightning-dir>/revops/policies/
lightning-cli revenue-policy-load rebalance default {{name}}.wasm
lightning-cli revenue-rebalance-run true                  # dry run: what it would move
"
        }
        PolicyKind::Payout => {
            "cp target/{{name}}.wasm <lightning-dir>/revops/policies/
lightning-cli revenue-policy-load payout default {{name}}.wasm
lightning-cli revenue-payout-preview                      # every line, nothing sent
"
        }
    }
}

fn make_executable(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("making {} executable", path.display()))
}

fn write(path: &Path, content: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(path, content).with_context(|| format!("writing {}", path.display()))
}
