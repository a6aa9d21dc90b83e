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

/// A tiny league: 2 generated scenarios, 1 day, 5 channels, every shipped fee policy.
fn tiny_league(extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "simulate",
        "--league",
        "--seeds",
        "1..3",
        "--days",
        "1",
        "--channels",
        "5",
    ];
    args.extend_from_slice(extra);
    revops(&args)
}

/// The shipped fee policies, as `revops policy shipped` lists them.
fn shipped_fee_policies() -> Vec<String> {
    let out = revops(&["policy", "shipped"]);
    text(&out.stdout)
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let name = words.next()?.strip_prefix("embedded:")?;
            (words.next()? == "fee").then(|| name.to_owned())
        })
        .collect()
}

#[test]
fn a_league_ranks_every_shipped_fee_policy_and_is_reproducible() {
    let first = tiny_league(&["--json"]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let second = tiny_league(&["--json"]);
    assert_eq!(first.stdout, second.stdout, "same seeds, same league");

    let json: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    let league = &json["league"];
    assert_eq!(league["seeds"], serde_json::json!([1, 2]));
    let lines = league["policies"].as_array().unwrap();
    let mut names: Vec<String> = lines
        .iter()
        .map(|l| l["policy"].as_str().unwrap().to_owned())
        .collect();
    names.sort_unstable();
    let mut shipped = shipped_fee_policies();
    shipped.sort_unstable();
    assert_eq!(names, shipped);
    for line in lines {
        for key in [
            "median_ratio",
            "mean_ratio",
            "median_ratio_interval",
            "wins",
            "ties",
            "broadcasts_per_channel_day",
            "spend_per_revenue",
            "failed_forwards_mean",
            "median_net_msat",
        ] {
            assert!(line.get(key).is_some(), "{key} missing in {line}");
        }
    }
    let wins: u64 = lines.iter().map(|l| l["wins"].as_u64().unwrap()).sum();
    assert!(wins <= 2, "at most one winner per scenario");
    let scenarios = league["scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), 2);
    assert_eq!(scenarios[0]["channels"], 5);
    let reports = json["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0].as_array().unwrap().len(), shipped.len());
}

#[test]
fn a_league_prints_one_table_with_a_line_per_policy() {
    let out = tiny_league(&[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("league — 2 scenarios"), "{stdout}");
    assert!(stdout.contains("90 % interval"), "{stdout}");
    for policy in shipped_fee_policies() {
        assert!(
            stdout.lines().any(|l| l.starts_with(policy.as_str())),
            "{policy} missing:\n{stdout}"
        );
    }
}

/// Rows of a timeseries.csv: header checked, then (policy, channel, hour) of each row.
fn timeseries_rows(path: &std::path::Path) -> Vec<(String, String, u64)> {
    let csv = std::fs::read_to_string(path).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    for column in [
        "policy",
        "hour",
        "channel",
        "fee_ppm",
        "local_share",
        "mode",
        "forwards",
        "failed_forwards",
        "revenue_msat",
        "broadcasts",
    ] {
        assert!(header.contains(&column), "{column} missing: {header:?}");
    }
    let at = |name: &str| header.iter().position(|h| *h == name).unwrap();
    lines
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), header.len(), "{line}");
            (
                fields[at("policy")].to_owned(),
                fields[at("channel")].to_owned(),
                fields[at("hour")].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn out_dir_gets_a_timeseries_row_per_channel_hour_and_policy() {
    let dir = tempfile::tempdir().unwrap();
    let out = revops(&[
        "simulate",
        "--compare",
        "--days",
        "1",
        "--channels",
        "4",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows = timeseries_rows(&dir.path().join("timeseries.csv"));
    let policies = shipped_fee_policies().len();
    assert_eq!(rows.len(), 4 * 24 * policies);
    let mut keys: Vec<_> = rows.clone();
    keys.sort();
    keys.dedup();
    assert_eq!(
        keys.len(),
        rows.len(),
        "one row per channel × hour × policy"
    );
    assert!(rows.iter().all(|(_, _, hour)| (1..=24).contains(hour)));
    let chart = std::fs::read_to_string(dir.path().join("chart.svg")).unwrap();
    assert!(chart.contains("simulated time (days)"));
    for policy in shipped_fee_policies() {
        assert!(chart.contains(policy.as_str()), "{policy} not in the chart");
    }
}

#[test]
fn a_league_out_dir_has_each_scenario_and_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let out = tiny_league(&["--out", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let league: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("league.json")).unwrap())
            .unwrap();
    assert_eq!(league["league"]["scenarios"].as_array().unwrap().len(), 2);
    let mut scenario_dirs: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    scenario_dirs.sort();
    assert_eq!(scenario_dirs.len(), 2, "{scenario_dirs:?}");
    for scenario in &scenario_dirs {
        assert!(scenario.join("report.json").exists());
        assert!(scenario.join("chart.svg").exists());
        let rows = timeseries_rows(&scenario.join("timeseries.csv"));
        assert_eq!(rows.len(), 5 * 24 * shipped_fee_policies().len());
    }
}

#[test]
fn league_arguments_are_checked() {
    for (args, expected) in [
        (
            vec!["simulate", "--league", "--seeds", "5..5"],
            "the range is empty",
        ),
        (
            vec!["simulate", "--league", "--seeds", "x"],
            "expected A..B",
        ),
        (vec!["simulate", "--family", "small-retail"], "--league"),
        (
            vec![
                "simulate", "--league", "--family", "atlantis", "--count", "1",
            ],
            "no scenario family",
        ),
        (
            vec![
                "simulate",
                "--scenario",
                "default",
                "--scenario",
                "htlc-flood",
            ],
            "several need --league",
        ),
    ] {
        let out = revops(&args);
        assert!(!out.status.success(), "{args:?} accepted");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}
