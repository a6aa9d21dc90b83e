//! `revops policy new`: every template builds with one command and passes `policy check`; the
//! Python and JavaScript fee templates decide exactly as the Rust one; the examples under
//! `policies/python` and `policies/js` are what the templates generate.
//!
//! The Python and JS builds use the pinned componentize-py and ComponentizeJS, shared under
//! `target/policy-tools/` (what `.ci/run` installs); a missing python3 or npm fails the test.

use revops_tests::{
    revops,
    standin::{StandIn, simulated_node},
};
use serde_json::json;
use std::{
    path::{Path, PathBuf},
    process::Command,
};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `cargo build --release --target wasm32-wasip2` in `project`, with this build's toolchain.
fn build(project: &Path, target_dir: &Path) {
    let cargo = Path::new(env!("CARGO"));
    let rustc = cargo.with_file_name("rustc");
    let out = Command::new(cargo)
        .current_dir(project)
        .args(["build", "--release", "--target", "wasm32-wasip2", "--quiet"])
        .env("CARGO_TARGET_DIR", target_dir)
        .env("RUSTC", &rustc)
        .output()
        .expect("running cargo");
    assert!(
        out.status.success(),
        "template does not build:\n{}",
        text(&out.stderr)
    );
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the repository root")
        .to_owned()
}

/// `./build.sh` of a Python or JS project, with the shared pinned tools; returns the component.
fn build_script(project: &Path, lang: &str, name: &str) -> PathBuf {
    let tools = repo_root().join("target/policy-tools");
    let (needed, probe, env_key, env_value): (&str, &[&str], &str, PathBuf) = match lang {
        "python" => (
            "python3 with the venv module",
            &["python3", "-c", "import venv"],
            "REVOPS_PY_VENV",
            tools.join("python-venv"),
        ),
        _ => (
            "node and npm",
            &["npm", "--version"],
            "REVOPS_JS_TOOLS",
            tools.join("js"),
        ),
    };
    let present = Command::new(probe[0])
        .args(&probe[1..])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        present,
        "building the {lang} template needs {needed}, which is not installed \
         (.ci/run installs the toolchains)"
    );
    let out = Command::new(project.join("build.sh"))
        .current_dir(project)
        .env(env_key, env_value)
        .output()
        .expect("running build.sh");
    assert!(
        out.status.success(),
        "{lang} template does not build:\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    project.join("target").join(format!("{name}.wasm"))
}

fn check_json(wasm: &Path, extra: &[&str]) -> serde_json::Value {
    check_kind_json(wasm, "fee", extra)
}

fn check_kind_json(wasm: &Path, kind: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "policy",
        "check",
        wasm.to_str().unwrap(),
        "--kind",
        kind,
        "--json",
    ];
    args.extend_from_slice(extra);
    let check = revops(&args);
    assert!(
        check.status.success(),
        "{}: {}",
        wasm.display(),
        text(&check.stderr)
    );
    serde_json::from_slice(&check.stdout).unwrap()
}

fn new_policy(dir: &Path, name: &str, lang: &str) -> PathBuf {
    new_kind_policy(dir, name, "fee", lang)
}

fn new_kind_policy(dir: &Path, name: &str, kind: &str, lang: &str) -> PathBuf {
    let out = revops(&[
        "policy",
        "new",
        name,
        "--kind",
        kind,
        "--lang",
        lang,
        "--dir",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{lang}: {}", text(&out.stderr));
    dir.join(name)
}

#[test]
fn python_and_js_templates_build_pass_check_and_decide_like_rust() {
    let dir = tempfile::tempdir().unwrap();
    let rust = new_policy(&dir.path().join("rust"), "balance", "rust");
    let target = dir.path().join("target");
    build(&rust, &target);
    let rust_wasm = target.join("wasm32-wasip2/release/balance.wasm");
    // One precompile cache for every check: Python and JS compile in seconds, once each.
    let cache = dir.path().join("cache");
    let cache = ["--cache-dir", cache.to_str().unwrap()];
    let mut reports = vec![("rust", check_json(&rust_wasm, &cache))];
    for lang in ["python", "js"] {
        let project = new_policy(&dir.path().join(lang), "balance", lang);
        for file in ["build.sh", "README.md", ".gitignore", "wit/policy.wit"] {
            assert!(project.join(file).exists(), "{lang}: {file} missing");
        }
        let wasm = build_script(&project, lang, "balance");
        reports.push((lang, check_json(&wasm, &cache)));
    }
    let (_, reference) = &reports[0];
    for (lang, report) in &reports[1..] {
        assert_eq!(
            report["describe"], reference["describe"],
            "{lang}: describe()"
        );
        assert_eq!(
            report["sample_run"]["output"], reference["sample_run"]["output"],
            "{lang}: decisions on the sample snapshot"
        );
        assert_eq!(report["memory_limit_bytes"], 512 << 20, "{lang}");
    }
    assert_eq!(reports[0].1["wasi"], false);
    assert_eq!(
        reports[1].1["wasi"], true,
        "componentize-py output imports WASI"
    );
    assert_eq!(
        reports[2].1["wasi"], false,
        "JS is built with no WASI features"
    );
    // And with other parameters and a larger node.
    let extra = [
        "--param",
        "base-ppm=900",
        "--param",
        "steepness=0.3",
        "--channels",
        "150",
        "--seed",
        "4",
        cache[0],
        cache[1],
    ];
    let rust = check_json(&rust_wasm, &extra);
    for lang in ["python", "js"] {
        let wasm = dir.path().join(lang).join("balance/target/balance.wasm");
        let report = check_json(&wasm, &extra);
        assert_eq!(report["compile"]["source"], "cache", "{lang}: second load");
        assert_eq!(
            report["sample_run"]["output"], rust["sample_run"]["output"],
            "{lang}: decisions with other parameters"
        );
    }

    // The guide's last step, in all three languages: hot-load each into the plugin on the
    // stand-in lightningd (replacing the one before) and run a fee cycle with it.
    let mut standin = StandIn::start(simulated_node(4), json!({}));
    let policies = standin.dir().join("revops").join("policies");
    for (lang, built) in [
        ("rust", rust_wasm.clone()),
        (
            "python",
            dir.path().join("python/balance/target/balance.wasm"),
        ),
        ("js", dir.path().join("js/balance/target/balance.wasm")),
    ] {
        let file = format!("balance-{lang}.wasm");
        std::fs::copy(built, policies.join(&file)).unwrap();
        let loaded = standin
            .call(
                "revenue-policy-load",
                json!({ "kind": "fee", "name": "default", "path": file, "params": {"base-ppm": 300} }),
            )
            .unwrap_or_else(|e| panic!("{lang}: {e}"));
        assert_eq!(loaded["policy"], "balance", "{lang}: {loaded}");
        let cycle = standin
            .call("revenue-run", json!(["fee"]))
            .unwrap_or_else(|e| panic!("{lang}: {e}"));
        assert!(
            cycle["counts"]["failed"].as_u64().unwrap_or(0) == 0,
            "{lang}: {cycle}"
        );
    }
    assert!(
        !standin.calls_of("setchannel").is_empty(),
        "the hot-loaded policies set fees"
    );
}

/// `policies/<lang>/example-fee` is exactly `revops policy new example-fee --lang <lang>`.
#[test]
fn shipped_examples_are_the_templates() {
    let dir = tempfile::tempdir().unwrap();
    for lang in ["python", "js"] {
        let fresh = new_policy(&dir.path().join(lang), "example-fee", lang);
        let example = repo_root().join("policies").join(lang).join("example-fee");
        let mut files = vec![];
        let mut stack = vec![fresh.clone()];
        while let Some(at) = stack.pop() {
            for entry in std::fs::read_dir(&at).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    files.push(path.strip_prefix(&fresh).unwrap().to_owned());
                }
            }
        }
        assert!(files.len() >= 6, "{lang}: {files:?}");
        for file in files {
            let generated = std::fs::read_to_string(fresh.join(&file)).unwrap();
            let shipped = std::fs::read_to_string(example.join(&file))
                .unwrap_or_else(|e| panic!("{lang}: {}: {e}", file.display()));
            assert!(
                generated == shipped,
                "policies/{lang}/example-fee/{} differs from the template; regenerate it with \
                 `revops policy new example-fee --kind fee --lang {lang}`",
                file.display()
            );
        }
    }
}

#[test]
fn every_template_builds_and_passes_check() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("target");
    for kind in ["fee", "rebalance", "payout"] {
        let name = format!("my-{kind}");
        let out = revops(&[
            "policy",
            "new",
            &name,
            "--kind",
            kind,
            "--dir",
            dir.path().to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let project = dir.path().join(&name);
        for file in [
            "Cargo.toml",
            "README.md",
            "src/lib.rs",
            "src/glue.rs",
            "wit/policy.wit",
        ] {
            assert!(project.join(file).exists(), "{file} missing");
        }
        build(&project, &target);
        let wasm = target
            .join("wasm32-wasip2/release")
            .join(format!("my_{kind}.wasm"));
        let check = revops(&[
            "policy",
            "check",
            wasm.to_str().unwrap(),
            "--kind",
            kind,
            "--json",
        ]);
        assert!(check.status.success(), "{kind}: {}", text(&check.stderr));
        let report: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
        assert_eq!(report["describe"]["name"], name.as_str());
        assert_eq!(report["world"], format!("{kind}-policy"));
    }
}

#[test]
fn bad_requests_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let at = dir.path().to_str().unwrap();
    for (args, expected) in [
        (
            vec!["policy", "new", "Bad Name", "--dir", at],
            "policy name",
        ),
        (
            vec!["policy", "new", "ok", "--kind", "tip", "--dir", at],
            "unknown policy kind",
        ),
        (
            vec!["policy", "new", "ok", "--lang", "cobol", "--dir", at],
            "choose rust, python or js",
        ),
    ] {
        let out = revops(&args);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            text(&out.stderr).contains(expected),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    assert!(
        revops(&["policy", "new", "twice", "--dir", at])
            .status
            .success()
    );
    let again = revops(&["policy", "new", "twice", "--dir", at]);
    assert!(text(&again.stderr).contains("already exists"));
}

#[test]
fn rebalance_and_payout_templates_decide_alike_in_all_three_languages() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("target");
    let cache = dir.path().join("cache");
    let cache = ["--cache-dir", cache.to_str().unwrap()];
    for kind in ["rebalance", "payout"] {
        let name = format!("my-{kind}");
        let rust = new_kind_policy(&dir.path().join("rust"), &name, kind, "rust");
        build(&rust, &target);
        let rust_wasm = target.join(format!("wasm32-wasip2/release/my_{kind}.wasm"));
        let reference = check_kind_json(&rust_wasm, kind, &cache);
        let output = &reference["sample_run"]["output"];
        let decided = output["proposals"]
            .as_array()
            .or_else(|| output["lines"].as_array())
            .unwrap();
        assert!(
            !decided.is_empty(),
            "{kind}: the sample makes the template act: {output}"
        );
        for lang in ["python", "js"] {
            let project = new_kind_policy(&dir.path().join(lang), &name, kind, lang);
            let wasm = build_script(&project, lang, &name);
            let report = check_kind_json(&wasm, kind, &cache);
            assert_eq!(
                report["describe"], reference["describe"],
                "{lang} {kind}: describe()"
            );
            assert_eq!(
                report["sample_run"]["output"], *output,
                "{lang} {kind}: decisions on the sample"
            );
            let readme = std::fs::read_to_string(project.join("README.md")).unwrap();
            assert!(
                readme.contains(&format!("revenue-policy-load {kind} default")),
                "{lang} {kind}: {readme}"
            );
        }
    }
}
