//! Rebalancing through the stand-in lightningd as a real v26.06 node answers: the askrene
//! layer, budget reservations across crashes and payments left in flight, reconciliation, the
//! backoff after "no route", and `rebalance-ev`'s reasons.

use revops::node::Node;
use revops_tests::{
    built_guest,
    standin::{StandIn, daemon::Daemon, kill::KillWhen, simulated_node},
};
use serde_json::{Value, json};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const LAYER: &str = "revops-rebalance";

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// revops with `simple_rebalance.wasm` moving `amount_sat` at up to `max_fee_ppm`.
fn with_simple_rebalance(standin: &mut StandIn, amount_sat: u64, max_fee_ppm: u64) {
    let dir = standin.dir().join("revops").join("policies");
    std::fs::copy(
        built_guest("simple_rebalance.wasm"),
        dir.join("simple_rebalance.wasm"),
    )
    .expect("copy guest");
    standin
        .call(
            "revenue-policy-load",
            json!(["rebalance", "default", "simple_rebalance.wasm",
                   { "amount-sat": amount_sat, "max-fee-ppm": max_fee_ppm }]),
        )
        .expect("policy loads");
}

fn rebalance(standin: &mut StandIn, dry_run: bool) -> Value {
    standin
        .call("revenue-rebalance-run", json!({ "dry_run": dry_run }))
        .expect("cycle runs")
}

fn history(standin: &mut StandIn) -> Value {
    standin
        .call("revenue-rebalance-history", json!([]))
        .unwrap()
}

fn daemon(standin: &StandIn) -> std::sync::MutexGuard<'_, Daemon> {
    standin.daemon.lock().unwrap()
}

/// The plugin's log lines that mention `what` (the debug log is long), once one of them
/// satisfies `done` or 20 s have passed: log notifications may trail the answer.
fn logs_about(standin: &StandIn, what: &str, done: impl Fn(&str) -> bool) -> Vec<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let lines: Vec<String> = standin
            .logs()
            .into_iter()
            .filter(|l| l.contains(what))
            .collect();
        if lines.iter().any(|l| done(l)) || std::time::Instant::now() > deadline {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_first_rebalance_creates_the_askrene_layer_and_routes_with_it() {
    let mut standin = StandIn::start(simulated_node(4), json!({}));
    with_simple_rebalance(&mut standin, 150_000, 2_000);
    let report = rebalance(&mut standin, false);
    assert_eq!(
        report["decisions"][0]["outcome"]["outcome"], "completed",
        "{report}"
    );
    let our_id = daemon(&standin).node.info().unwrap().id;
    // askrene knew no such layer (v26.06 answers -32602 "Unknown layer"): revops made it.
    assert_eq!(
        standin.calls_of("askrene-create-layer"),
        vec![json!({ "layer": LAYER, "persistent": false })]
    );
    assert_eq!(
        standin.calls_of("askrene-disable-node"),
        vec![json!({ "layer": LAYER, "node": our_id })]
    );
    assert_eq!(standin.calls_of("getroutes")[0]["layers"], json!([LAYER]));
    assert_eq!(daemon(&standin).layers[LAYER], vec![our_id]);
    let warned = standin
        .logs()
        .into_iter()
        .filter(|l| l.contains("filtering instead"))
        .collect::<Vec<_>>();
    assert!(warned.is_empty(), "{warned:?}");
}

#[test]
fn an_askrene_refusal_is_warned_about_with_its_reason() {
    let mut standin = StandIn::start(simulated_node(4), json!({}));
    with_simple_rebalance(&mut standin, 150_000, 2_000);
    standin.fail(
        "askrene-listlayers",
        revops_tests::standin::daemon::Fault::Error {
            code: -4,
            message: "askrene is restarting".into(),
        },
    );
    let report = rebalance(&mut standin, false);
    assert_eq!(
        report["decisions"][0]["outcome"]["outcome"], "completed",
        "routes through us are filtered instead: {report}"
    );
    assert_eq!(standin.calls_of("getroutes")[0]["layers"], json!([]));
    let keeps_both = |l: &str| {
        l.contains("filtering instead") && l.contains("askrene is restarting") && l.contains("-4")
    };
    let logs = logs_about(&standin, "askrene", keeps_both);
    assert!(
        logs.iter().any(|l| keeps_both(l)),
        "the warning keeps both its text and lightningd's: {logs:?}"
    );
}

/// Kills revops right after lightningd accepted its `sendpay`, restarts it on the same node.
fn crash_after_sendpay(standin: StandIn) -> (StandIn, u64) {
    let mut standin = standin;
    let pid = standin.pid();
    daemon(&standin).kill_at_method(pid, "sendpay", KillWhen::AfterHandling);
    assert!(
        standin.call_expecting_exit("revenue-rebalance-run", json!([])),
        "the plugin should have died at sendpay"
    );
    let killed_at = unix_now();
    let (dir, daemon, _) = standin.after_kill();
    // The restart (and so the reconciliation) comes later than the payment.
    std::thread::sleep(Duration::from_millis(2_100));
    (StandIn::start_on(dir, daemon, json!({}), &[]), killed_at)
}

#[test]
fn a_crash_after_sendpay_is_reconciled_at_the_payment_time_without_leaking_its_reservation() {
    let mut standin = StandIn::start(simulated_node(4), json!({}));
    with_simple_rebalance(&mut standin, 150_000, 2_000);
    let (mut standin, killed_at) = crash_after_sendpay(standin);
    // The next cycle reconciles the payment from listsendpays before deciding anything.
    let report = rebalance(&mut standin, true);
    let booked = history(&mut standin);
    let rows = booked["rebalances"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{booked}");
    assert_eq!(rows[0]["completed"], true, "{booked}");
    let fee = rows[0]["fee"].as_u64().unwrap();
    assert!(fee > 0, "{booked}");
    assert!(
        rows[0]["at"].as_u64().unwrap() <= killed_at,
        "booked at the payment's time, not the reconciliation's: {booked} (killed at {killed_at})"
    );
    assert_eq!(
        report["budget_spent"].as_u64().unwrap(),
        fee,
        "only the fee paid counts; the crashed move's reservation is gone: {report}"
    );
    let sendpays = daemon(&standin).payments.sendpays.clone();
    assert_eq!(sendpays.len(), 1, "{sendpays:?}");
    assert!(
        sendpays.values().all(|n| *n == 1),
        "never resent: {sendpays:?}"
    );
}

#[test]
fn a_payment_still_pending_keeps_its_reservation_until_it_resolves() {
    let mut standin = StandIn::start(simulated_node(4), json!({}));
    with_simple_rebalance(&mut standin, 150_000, 2_000);
    standin
        .call("revenue-config", json!(["set", "rebalance.wait-secs", 1]))
        .unwrap();
    daemon(&standin).payments.hold_new = true;
    let report = rebalance(&mut standin, false);
    assert_eq!(
        report["decisions"][0]["outcome"]["outcome"], "pending",
        "{report}"
    );
    // 150,000 sat at the default ceiling of 1,000 ppm: 150 sat held while it is in flight.
    let reserved = 150_000_000 / 1_000;
    let held = rebalance(&mut standin, true);
    assert_eq!(
        held["budget_spent"].as_u64().unwrap(),
        reserved,
        "the payment in flight keeps its reservation: {held}"
    );
    assert_eq!(
        held["decisions"][0]["verdict"], "refuse",
        "one rebalance in flight fills the concurrency limit: {held}"
    );
    daemon(&standin).payments.release();
    let after = rebalance(&mut standin, true);
    let booked = history(&mut standin);
    let fee = booked["rebalances"][0]["fee"].as_u64().unwrap();
    assert_eq!(booked["rebalances"][0]["completed"], true, "{booked}");
    assert_eq!(
        after["budget_spent"].as_u64().unwrap(),
        fee,
        "the reservation gave way to the fee paid: {after}"
    );
    assert_eq!(daemon(&standin).payments.sendpays.len(), 1);
}

#[test]
fn no_route_counts_as_a_failure_for_the_backoff() {
    let mut standin = StandIn::start(simulated_node(4), json!({}));
    // 1 ppm of 150,000 sat cannot pay even our peer's fee back to us.
    with_simple_rebalance(&mut standin, 150_000, 1);
    let first = rebalance(&mut standin, false);
    assert_eq!(
        first["decisions"][0]["outcome"]["outcome"], "no_route",
        "{first}"
    );
    let booked = history(&mut standin);
    assert_eq!(booked["rebalances"][0]["sent"], false, "{booked}");
    assert!(
        booked["rebalances"][0]["failure"]
            .as_str()
            .unwrap()
            .contains("above the cap"),
        "{booked}"
    );
    let second = rebalance(&mut standin, false);
    let reason = second["decisions"][0]["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(reason.starts_with("backoff"), "{second}");
    assert!(standin.calls_of("sendpay").is_empty());
}

#[test]
fn rebalance_ev_says_why_it_proposes_nothing() {
    let mut standin = StandIn::start(simulated_node(4), json!({}));
    standin
        .call(
            "revenue-policy-load",
            json!(["rebalance", "default", "embedded:rebalance-ev"]),
        )
        .unwrap();
    let report = rebalance(&mut standin, true);
    assert_eq!(report["decisions"], json!([]), "{report}");
    let says_why =
        |l: &str| l.contains("rebalance-ev: 0 moves proposed;") && l.contains("not short");
    let logs = logs_about(&standin, "rebalance-ev", says_why);
    assert!(logs.iter().any(|l| says_why(l)), "{logs:?}");
}
