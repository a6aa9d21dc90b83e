//! `revops simulate` from the outside: the README's main command, JSON stability, outputs.

use revops_tests::{built_guest, revops};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn compare_prints_every_shipped_fee_policy() {
    let out = revops(&["simulate", "--compare", "--days", "2"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("scenario default"), "{stdout}");
    for policy in [
        "balance-curve",
        "static",
        "clboss",
        "lndg-autofees",
        "charge-lnd-proportional",
        "lit-autofees",
        "cl-revenue-ops",
    ] {
        assert!(
            stdout.lines().any(|l| l.starts_with(policy)),
            "{policy} missing:\n{stdout}"
        );
    }
}

#[test]
fn json_is_identical_for_the_same_seed() {
    let args = ["simulate", "--days", "2", "--seed", "9", "--json"];
    let first = revops(&args);
    let second = revops(&args);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert_eq!(first.stdout, second.stdout);
    let report: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    let reports = report["reports"].as_array().unwrap();
    assert_eq!(
        reports.len(),
        1,
        "without --compare only the default policy runs"
    );
    assert_eq!(reports[0]["seed"], 9);
    assert!(reports[0]["forwards_settled"].as_u64().unwrap() > 0);
}

#[test]
fn out_dir_gets_a_report_and_a_chart() {
    let dir = tempfile::tempdir().unwrap();
    let out = revops(&[
        "simulate",
        "--scenario",
        "htlc-flood",
        "--days",
        "1",
        "--channels",
        "5",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let chart = std::fs::read_to_string(dir.path().join("chart.svg")).unwrap();
    assert!(chart.starts_with("<svg") && chart.contains("polyline"));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap())
            .unwrap();
    assert_eq!(report["reports"][0]["channels"], 5);
}

#[test]
fn a_policy_file_runs_beside_the_baselines() {
    let guest = built_guest("fee_static.wasm");
    let policy = format!("fee={} fee-ppm=300", guest.display());
    let out = revops(&[
        "simulate",
        "--days",
        "1",
        "--policy",
        &policy,
        "--compare",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let labels: Vec<&str> = report["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["policy"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        [
            "fee_static (fee-ppm=300)",
            "one-percent",
            "balance-curve",
            "static",
            "clboss",
            "lndg-autofees",
            "charge-lnd-proportional",
            "lit-autofees",
            "cl-revenue-ops"
        ]
    );
}

#[test]
fn a_rebalance_policy_pays_for_rebalances_and_nets_them_out() {
    let out = revops(&[
        "simulate",
        "--days",
        "3",
        "--policy",
        "rebalance=embedded:rebalance-ev",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let report = &report["reports"][0];
    let revenue = report["revenue_msat"].as_i64().unwrap();
    let costs = report["costs_msat"].as_i64().unwrap();
    assert!(
        costs > 0,
        "rebalance-ev never paid for a rebalance: {report}"
    );
    assert_eq!(report["net_msat"].as_i64().unwrap(), revenue - costs);
    assert_eq!(report["policy_errors"], 0);

    let without = revops(&["simulate", "--days", "3", "--json"]);
    let without: serde_json::Value = serde_json::from_slice(&without.stdout).unwrap();
    assert_eq!(without["reports"][0]["costs_msat"], 0);
}

#[test]
fn bad_input_is_refused_clearly() {
    for (args, expected) in [
        (
            vec!["simulate", "--scenario", "atlantis"],
            "no built-in scenario",
        ),
        (vec!["simulate", "--policy", "fee"], "expected KIND=PATH"),
        (
            vec!["simulate", "--policy", "tip=x.wasm"],
            "unknown policy kind",
        ),
        (
            vec!["simulate", "--policy", "fee=embedded:static nonsense=1"],
            "unknown parameter",
        ),
        (vec!["simulate", "--days", "0"], "days = 0"),
        (
            vec![
                "simulate",
                "--policy",
                "rebalance=embedded:rebalance-ev",
                "--policy",
                "rebalance=embedded:rebalance-ev",
            ],
            "at most one rebalance policy",
        ),
        (
            vec!["simulate", "--policy", "payout=embedded:noop"],
            "no shipped policy",
        ),
    ] {
        let out = revops(&args);
        assert!(!out.status.success(), "{args:?} accepted");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[test]
fn a_broken_scenario_file_names_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.toml");
    std::fs::write(&path, "name = \"broken\"\ndays = 2\n").unwrap();
    let out = revops(&["simulate", "--scenario", path.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("missing field"),
        "{}",
        text(&out.stderr)
    );
}
