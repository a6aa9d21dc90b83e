//! `revops policy new`: every template builds with one command and passes `policy check`.

use revops_tests::revops;
use std::{path::Path, process::Command};

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
            vec!["policy", "new", "ok", "--lang", "python", "--dir", at],
            "only rust",
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
