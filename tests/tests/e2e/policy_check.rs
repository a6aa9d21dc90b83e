//! `revops policy check`: accepts real policies with a full report, refuses anything else with
//! one clear line and a non-zero exit code.

use revops_tests::{built_guest, revops};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn accepts_the_shipped_fee_policy() {
    let out = revops(&[
        "policy",
        "check",
        "embedded:balance-curve",
        "--channels",
        "7",
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for expected in [
        "policy      balance-curve",
        "world       fee-policy",
        "sha256      ",
        "compile     ",
        "min-ppm",
        "sample run  7 channels",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
    // One table row per channel.
    assert_eq!(stdout.matches("balance curve").count(), 7, "{stdout}");
}

#[test]
fn json_report_is_machine_readable() {
    let out = revops(&[
        "policy",
        "check",
        built_guest("fee_static.wasm").to_str().unwrap(),
        "--param",
        "fee-ppm=321",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["describe"]["name"], "static");
    assert_eq!(report["world"], "fee-policy");
    assert_eq!(report["sha256"].as_str().unwrap().len(), 64);
    let proposals = report["sample_run"]["output"]["proposals"]
        .as_array()
        .unwrap();
    assert_eq!(proposals.len(), 20);
    assert!(proposals.iter().all(|p| p["fee_ppm"] == 321));
    assert!(report["sample_run"]["fuel_used"].as_u64().unwrap() > 0);
}

fn assert_refused(args: &[&str], expected: &str) {
    let out = revops(args);
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{args:?} was accepted");
    assert!(stderr.contains(expected), "{args:?}: {stderr}");
    let error_lines: Vec<_> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(error_lines.len(), 1, "{stderr}");
    assert!(out.stdout.is_empty(), "nothing on stdout when refusing");
}

#[test]
fn refuses_a_random_file() {
    let dir = tempfile::tempdir().unwrap();
    let random = dir.path().join("random.wasm");
    let bytes: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    std::fs::write(&random, bytes).unwrap();
    assert_refused(
        &["policy", "check", random.to_str().unwrap()],
        "not a WebAssembly component",
    );
}

#[test]
fn refuses_missing_files_and_unknown_embedded_names() {
    assert_refused(&["policy", "check", "/nonexistent/x.wasm"], "cannot read");
    assert_refused(
        &["policy", "check", "embedded:nope"],
        "no shipped policy named",
    );
}

#[test]
fn refuses_the_wrong_world() {
    let path = built_guest("noop_rebalance.wasm");
    assert_refused(
        &["policy", "check", path.to_str().unwrap(), "--kind", "fee"],
        "is a rebalance-policy, not a fee-policy",
    );
}

#[test]
fn checks_other_worlds_when_no_kind_is_given() {
    let out = revops(&[
        "policy",
        "check",
        built_guest("noop_payout.wasm").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("world       payout-policy"));
}

#[test]
fn a_hostile_policy_fails_the_check_clearly() {
    let path = built_guest("hostile_fee.wasm");
    assert_refused(
        &[
            "policy",
            "check",
            path.to_str().unwrap(),
            "--param",
            "mode=loop",
            "--fuel",
            "0",
            "--deadline-ms",
            "50",
        ],
        "policy ran past its deadline",
    );
    assert_refused(
        &[
            "policy",
            "check",
            path.to_str().unwrap(),
            "--param",
            "mode=bogus-knob=1",
        ],
        "unknown mode",
    );
}

#[test]
fn bad_parameters_are_named() {
    assert_refused(
        &[
            "policy",
            "check",
            "embedded:static",
            "--param",
            "fee-ppm=-5",
        ],
        "parameter \"fee-ppm\" = -5 is outside its range",
    );
    assert_refused(
        &[
            "policy",
            "check",
            "embedded:static",
            "--param",
            "colour=blue",
        ],
        "unknown parameter \"colour\"",
    );
}
