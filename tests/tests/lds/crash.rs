//! Crash consistency of a payout run (ignored by default; its own command, see the README):
//! the plugin is killed with SIGKILL at a random moment of `revenue-payout-run` against a real
//! LNbits, restarted, and the run repeated. After every round: the database passes
//! `PRAGMA integrity_check`, the run is done, and LNbits shows every line credited exactly
//! once (one successful incoming payment per external id, balances moved by the line).
//!
//! `REVOPS_CRASH_RUNS` (default 50) rounds, `REVOPS_CRASH_SEED` for the kill times.

use super::payouts::{Wallet, node, now, route_a_week, this_month, u64_of, unique, wallet};
use revops::rng::SplitMix64;
use revops_tests::{
    lnbits::{Lnbits, venv_python},
    standin::StandIn,
};
use serde_json::{Value, json};
use std::{
    collections::BTreeMap,
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

const INVESTORS: usize = 4;

/// What the database says at the moment of the kill.
const STATE_SQL: &str = "
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
ok = db.execute('PRAGMA integrity_check').fetchone()[0]
run = db.execute('SELECT status FROM lds_payout_runs').fetchall()
lines = db.execute('SELECT status, COUNT(*) FROM lds_payout_lines GROUP BY status').fetchall()
print(json.dumps({'integrity': ok, 'runs': [r[0] for r in run], 'lines': dict(lines)}))
";

fn db_state(dir: &Path) -> Value {
    let db = dir.join("revops/revops.sqlite3");
    let out = Command::new(venv_python())
        .args(["-c", STATE_SQL])
        .arg(&db)
        .output()
        .expect("python3 for sqlite3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("state JSON")
}

/// Per investor key: balance and the credits whose external id starts with `prefix`.
fn credits(lnbits: &Lnbits, prefix: &str, keys: &[&str]) -> Vec<Value> {
    let mut args = vec!["credits", prefix];
    args.extend_from_slice(keys);
    lnbits.bootstrap(&args)["wallets"]
        .as_array()
        .unwrap()
        .clone()
}

/// Where in the run the kill landed, from the database and LNbits.
fn kill_point(state: &Value, credited: usize) -> String {
    let runs = state["runs"].as_array().unwrap();
    let count = |status: &str| state["lines"][status].as_u64().unwrap_or(0);
    match runs.first().and_then(Value::as_str) {
        None => "before the run was recorded".into(),
        Some("done") => "after the run finished".into(),
        Some(_) => {
            let paid = count("paid");
            let extra = credited as u64 - paid.min(credited as u64);
            format!(
                "mid-run: {paid} paid, {} invoiced, {} planned{}",
                count("invoiced"),
                count("planned"),
                if extra > 0 {
                    format!(", {extra} credited by LNbits but not yet recorded")
                } else {
                    String::new()
                }
            )
        }
    }
}

#[test]
#[ignore = "crash soak (minutes): cargo test -p revops-tests --test lds crash -- --ignored --nocapture"]
fn sigkill_at_random_points_of_a_payout_run_never_pays_twice() {
    let rounds: u32 = std::env::var("REVOPS_CRASH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let seed = std::env::var("REVOPS_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(now);
    eprintln!("crash soak: {rounds} rounds, seed {seed}");
    let mut rng = SplitMix64::new(seed);
    let lnbits = Lnbits::acquire();
    let operator = wallet(&lnbits, "op", 9_000_000);
    let wallets: Vec<Wallet> = (0..INVESTORS)
        .map(|_| wallet(&lnbits, "inv", 100_000))
        .collect();
    let keys: Vec<&str> = wallets.iter().map(|w| w.inkey.as_str()).collect();
    let options = json!({
        "revenue-lnbits-url": lnbits.url,
        "revenue-lds-operator-key": operator.adminkey,
    });
    let month = this_month();
    // The first round is not killed: it measures how long a run takes.
    let mut window = Duration::from_secs(5);
    let mut points: BTreeMap<String, u32> = BTreeMap::new();
    let (mut lines_checked, mut double_payments) = (0u32, 0u32);
    for round in 0..=rounds {
        let dir = tempfile::tempdir().unwrap();
        let mut standin = StandIn::start_in(dir, node(), options.clone());
        // Investor ids are new each round, so are the external ids (`revops-lds-<month>-<id>`).
        let tag = unique("r");
        let ids: Vec<String> = (0..INVESTORS).map(|k| format!("{tag}i{k}")).collect();
        for (id, w) in ids.iter().zip(&wallets) {
            let tier = ["liquid", "30d", "90d"][rng.below(3) as usize];
            standin
                .call("revenue-lds-investor-add", json!([id, w.id, w.inkey, tier]))
                .unwrap();
        }
        route_a_week(&mut standin);
        let prefix = format!("revops-lds-{month}-{tag}");
        let before: Vec<u64> = credits(&lnbits, &prefix, &keys)
            .iter()
            .map(|w| u64_of(&w["balance_msat"]))
            .collect();

        if round > 0 {
            let delay = window.mul_f64(rng.below(1_200) as f64 / 1_000.0);
            // Sent without waiting for the answer: the kill comes while revops works on it.
            standin.send_request("revenue-payout-run", json!([month]));
            std::thread::sleep(delay);
            let killed = Command::new("kill")
                .args(["-KILL", &standin.pid().to_string()])
                .status()
                .unwrap();
            assert!(killed.success());
            let (dir, node, _) = standin.after_crash();
            let state = db_state(dir.path());
            assert_eq!(state["integrity"], "ok", "after the kill: {state}");
            let credited = credits(&lnbits, &prefix, &keys)
                .iter()
                .filter(|w| {
                    w["credits"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|c| c["status"] == "success")
                })
                .count();
            *points.entry(kill_point(&state, credited)).or_default() += 1;
            standin = StandIn::start_in(dir, node, options.clone());
        }
        let started = Instant::now();
        let outcome = standin.call("revenue-payout-run", json!([month])).unwrap();
        if round == 0 {
            window = started.elapsed();
            eprintln!("an uninterrupted payout run takes {window:?}");
        }
        assert_eq!(outcome["run"]["status"], "done", "{outcome}");
        let after = credits(&lnbits, &prefix, &keys);
        for line in outcome["run"]["lines"].as_array().unwrap() {
            let k = ids
                .iter()
                .position(|id| *id == line["investor_id"])
                .unwrap();
            let amount = u64_of(&line["amount"]);
            let got: Vec<&Value> = after[k]["credits"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| c["external_id"] == line["external_id"] && c["status"] == "success")
                .collect();
            let expected = usize::from(line["status"] == "paid");
            if got.len() > expected {
                double_payments += 1;
            }
            assert_eq!(
                got.len(),
                expected,
                "round {round}: {line} credited {got:?}"
            );
            let moved = u64_of(&after[k]["balance_msat"]) - before[k];
            let paid = if expected == 1 { amount } else { 0 };
            assert_eq!(moved, paid, "round {round}: {line}");
            lines_checked += 1;
        }
        let (dir, _, _) = standin.stop();
        let state = db_state(dir.path());
        assert_eq!(state["integrity"], "ok", "after the rerun: {state}");
    }
    eprintln!(
        "crash soak: {rounds} kills, {lines_checked} lines checked, {double_payments} double \
         payments; kill points:"
    );
    for (point, count) in &points {
        eprintln!("  {count:>3} × {point}");
    }
    assert_eq!(double_payments, 0);
}
