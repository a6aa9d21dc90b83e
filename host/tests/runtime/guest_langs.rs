//! Python and JavaScript policies: the examples in `policies/python/example-fee` and
//! `policies/js/example-fee` are built here (with the pinned componentize-py and ComponentizeJS
//! that `.ci/run` installs; a missing python3 or npm fails the test with a message), loaded
//! through the normal registry path, and must decide exactly as the Rust fee template does.

use super::*;
use revops::{
    model::{FeeDecision, sample::sample_snapshot},
    runtime::{CompileSource, LARGE_COMPONENT_MEMORY},
};
use serde_json::json;
use std::{
    path::PathBuf,
    process::Command,
    sync::{Mutex, OnceLock},
};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ sits in the repository root")
        .to_owned()
}

/// Builds `policies/<lang>/example-fee` once per test run (tools and output under
/// `target/policy-tools/`, never under `policies/`) and returns the component's path.
pub fn build_example(lang: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<BTreeMap<String, PathBuf>>> = OnceLock::new();
    let built = BUILT.get_or_init(Default::default);
    let mut built = built.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(path) = built.get(lang) {
        return path.clone();
    }
    let root = repo_root();
    let tools = root.join("target/policy-tools");
    let out = tools.join("out").join(lang);
    let (needed, probe, env_key, env_value): (&str, &[&str], &str, PathBuf) = match lang {
        "python" => (
            "python3 with the venv module",
            &["python3", "-c", "import venv"],
            "REVOPS_PY_VENV",
            tools.join("python-venv"),
        ),
        "js" => (
            "node and npm",
            &["npm", "--version"],
            "REVOPS_JS_TOOLS",
            tools.join("js"),
        ),
        other => panic!("no example for {other}"),
    };
    let present = Command::new(probe[0])
        .args(&probe[1..])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        present,
        "building the {lang} example policy needs {needed}, which is not installed \
         (.ci/run installs the toolchains)"
    );
    let script = root
        .join("policies")
        .join(lang)
        .join("example-fee/build.sh");
    let output = Command::new("sh")
        .arg(&script)
        .env(env_key, &env_value)
        .env("REVOPS_OUT_DIR", &out)
        .output()
        .expect("running build.sh");
    assert!(
        output.status.success(),
        "{} failed:\n{}\n{}",
        script.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let wasm = out.join("example-fee.wasm");
    assert!(wasm.exists(), "{} was not produced", wasm.display());
    built.insert(lang.to_owned(), wasm.clone());
    wasm
}

/// The Rust fee template's `fee_for` (host/templates/rust/fee.rs.tmpl), natively. The e2e test
/// `policy_new` checks the built Rust template against the Python and JS templates as well.
fn template_fee(local: u64, remote: u64, base_ppm: i64, steepness: f64) -> u32 {
    let base_ppm = base_ppm as f64;
    let total = local + remote;
    if total == 0 {
        return base_ppm as u32;
    }
    let local_share = local as f64 / total as f64;
    let factor = 1.0 + steepness * (0.5 - local_share);
    (base_ppm * factor.max(0.1)) as u32
}

fn expected(snapshot: &Snapshot, base_ppm: i64, steepness: f64) -> Vec<(String, u32, u64)> {
    snapshot
        .channels
        .iter()
        .map(|c| {
            (
                c.id.to_string(),
                template_fee(c.local.msat(), c.remote.msat(), base_ppm, steepness),
                c.fee_base.msat(),
            )
        })
        .collect()
}

fn decided(decision: &FeeDecision) -> Vec<(String, u32, u64)> {
    decision
        .proposals
        .iter()
        .map(|p| (p.channel.to_string(), p.fee_ppm.ppm(), p.fee_base.msat()))
        .collect()
}

/// Loads the example through the registry (policy directory, cache, canary), checks its
/// decisions against the template's on the sample snapshot and a larger one, then loads it
/// again in a second sandbox sharing the cache: no compile the second time.
fn same_decisions_as_rust(lang: &str, expect_wasi: bool) {
    let wasm = build_example(lang);
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(&wasm, dir.path().join("policy.wasm")).unwrap();
    let load = |sandbox: Arc<Sandbox>, params: Value| {
        let registry = Registry::new(sandbox, Some(PolicyDir::new(dir.path()).unwrap()), 3);
        let params: BTreeMap<String, Value> = serde_json::from_value(params).unwrap();
        let report = registry
            .load_file(
                PolicyKind::Fee,
                "main",
                Path::new("policy.wasm"),
                &params,
                RuntimeLimits::default(),
                &Canary::sample(PolicyKind::Fee),
            )
            .unwrap_or_else(|e| panic!("{lang}: {e}"));
        (registry, report)
    };

    let (registry, report) = load(Sandbox::new(Some(cache.path())).unwrap(), json!({}));
    assert_eq!(report.compile.source, CompileSource::Compiled);
    let policy = registry.active(PolicyKind::Fee, "main").unwrap();
    assert_eq!(policy.info.name, "example-fee");
    assert_eq!(policy.info.version, "0.1.0");
    let names: Vec<&str> = policy.info.params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["base-ppm", "steepness"]);
    assert_eq!(policy.uses_wasi(), expect_wasi, "{lang}");
    assert_eq!(policy.limits.memory_bytes, LARGE_COMPONENT_MEMORY);

    let snapshots = [sample(), sample_snapshot(200, 9)];
    for snapshot in &snapshots {
        let first = registry
            .propose_fees("main", &context_at(SAMPLE_NOW_SECS), snapshot)
            .unwrap();
        assert_eq!(
            decided(&first.value),
            expected(snapshot, 200, 1.0),
            "{lang}"
        );
        assert!(
            first
                .value
                .proposals
                .iter()
                .all(|p| p.reason == "balance-aware")
        );
        // Pure: another time and seed change nothing for this policy.
        let again = registry
            .propose_fees("main", &context_at(LATER), snapshot)
            .unwrap();
        assert_eq!(decided(&again.value), decided(&first.value));
    }

    // Second sandbox on the same cache: loaded from the precompiled artifact, other params.
    let (registry, report) = load(
        Sandbox::new(Some(cache.path())).unwrap(),
        json!({"base-ppm": 350, "steepness": 1.8}),
    );
    assert_eq!(report.compile.source, CompileSource::Cache, "{lang}");
    for snapshot in &snapshots {
        let called = registry
            .propose_fees("main", &context_at(SAMPLE_NOW_SECS), snapshot)
            .unwrap();
        assert_eq!(
            decided(&called.value),
            expected(snapshot, 350, 1.8),
            "{lang}"
        );
    }
}

#[test]
fn python_example_decides_like_the_rust_template() {
    same_decisions_as_rust("python", true);
}

#[test]
fn javascript_example_decides_like_the_rust_template() {
    same_decisions_as_rust("js", false);
}

/// A Python policy that reports what the deterministic WASI shows it: the clock, "random"
/// bytes, the environment, the file system; and one that tries to sleep.
const PROBE_APP: &str = r#"
import os, time
import wit_world
from componentize_py_types import Err
from wit_world.imports import types

class WitWorld(wit_world.WitWorld):
    def describe(self):
        return types.PolicyInfo(name="probe", version="0.1.0", description="WASI probe", params=[
            types.ParamSpec(name="sleep", description="try to sleep", kind=types.ParamKind.BOOLEAN,
                            default=types.ParamValue_Boolean(False), min=None, max=None)])

    def propose_fees(self, ctx, snapshot):
        if not snapshot.channels:
            return types.FeeDecision(proposals=[], node_state=b"", channel_states=[])
        if ctx.params[0].value.value:
            time.sleep(0.5)
        try:
            files = str(len(os.listdir("/")))
        except OSError:
            files = "none"
        reason = "%d|%s|%d|%s|%d" % (time.time(), os.urandom(6).hex(), len(os.environ), files,
                                     time.monotonic_ns())
        channel = snapshot.channels[0]
        return types.FeeDecision(proposals=[types.FeeProposal(channel=channel.id,
            fee_ppm=channel.fee_ppm, fee_base_msat=channel.fee_base_msat,
            mode=types.PricingMode.NORMAL, reason=reason)], node_state=b"", channel_states=[])
"#;

#[test]
fn python_sees_a_deterministic_capability_free_wasi() {
    build_example("python");
    let root = repo_root();
    let project = tempfile::tempdir().unwrap();
    let example = root.join("policies/python/example-fee");
    for file in ["build.sh", "requirements.txt", "wit/policy.wit"] {
        let to = project.path().join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(example.join(file), to).unwrap();
    }
    std::fs::write(project.path().join("app.py"), PROBE_APP).unwrap();
    let out = Command::new("sh")
        .arg(project.path().join("build.sh"))
        .env(
            "REVOPS_PY_VENV",
            root.join("target/policy-tools/python-venv"),
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let wasm = std::fs::read(project.path().join("target/example-fee.wasm")).unwrap();
    let registry = Registry::new(Sandbox::new(None).unwrap(), None, 3);
    let load = |sleep: bool| {
        registry
            .load_bytes(
                PolicyKind::Fee,
                if sleep { "sleepy" } else { "main" },
                &wasm,
                revops::runtime::PolicySource::Embedded("probe".into()),
                &serde_json::from_value(json!({ "sleep": sleep })).unwrap(),
                RuntimeLimits::default(),
                &Canary::Fee(context_at(0), Snapshot::default()),
            )
            .map(|_| ())
    };
    load(false).unwrap();
    let snapshot = sample();
    let probe = |now: u64, seed: u64| {
        let ctx = CallContext {
            now_secs: now,
            seed,
            ..CallContext::default()
        };
        let called = registry.propose_fees("main", &ctx, &snapshot).unwrap();
        called.value.proposals[0].reason.clone()
    };
    let first = probe(SAMPLE_NOW_SECS, 7);
    let fields: Vec<&str> = first.split('|').collect();
    assert_eq!(
        fields[0],
        SAMPLE_NOW_SECS.to_string(),
        "wall clock = ctx.now: {first}"
    );
    assert_eq!(fields[2], "0", "no environment: {first}");
    assert!(fields[3] == "none" || fields[3] == "0", "no files: {first}");
    assert_eq!(fields[4], "0", "monotonic clock fixed: {first}");
    assert_eq!(probe(SAMPLE_NOW_SECS, 7), first, "same call, same answer");
    let other_seed = probe(SAMPLE_NOW_SECS, 8);
    assert_ne!(
        other_seed.split('|').nth(1),
        Some(fields[1]),
        "randomness follows the seed"
    );
    assert!(probe(LATER, 7).starts_with(&LATER.to_string()));

    // The canary (no channels) returns early; the real call tries to sleep, and fails.
    load(true).unwrap_or_else(|e| panic!("{e}"));
    let err = registry
        .propose_fees("sleepy", &context_at(SAMPLE_NOW_SECS), &snapshot)
        .unwrap_err()
        .to_string();
    assert!(err.contains("may not sleep"), "{err}");
}
