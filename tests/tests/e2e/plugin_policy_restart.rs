//! Policy slots across restarts (rollback, quarantine, holding, removal), and the policy
//! RPCs' errors and logs, through the stand-in lightningd.

use revops::model::sample::SAMPLE_NOW_SECS;
use revops_tests::standin::{StandIn, simulated_node};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn load(standin: &mut StandIn, slot: &str, path: &str, params: Value) -> Value {
    standin
        .load_fee_policy(slot, path, params)
        .unwrap_or_else(|e| panic!("{path} loads into {slot}: {e}"))
}

/// The fee slot `name` as `revenue-policy-list` shows it.
fn slot(standin: &mut StandIn, name: &str) -> Option<Value> {
    let list = standin.call("revenue-policy-list", json!([])).unwrap();
    list["slots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "fee" && s["slot"] == name)
        .cloned()
}

fn label_of(slot: &Value, field: &str) -> String {
    slot[field].as_str().unwrap_or_default().to_owned()
}

fn restart(standin: StandIn) -> StandIn {
    let (dir, node, status) = standin.stop();
    assert!(status.success(), "clean exit on shutdown: {status}");
    StandIn::start_in(dir, node, json!({}))
}

/// Loads the hostile guest (panicking from one hour after the sample time) into `slot` and
/// moves the node past that hour.
fn turn_hostile(standin: &mut StandIn, slot: &str) {
    standin.install_guest("hostile_fee.wasm");
    let turn = SAMPLE_NOW_SECS + 3600;
    load(
        standin,
        slot,
        "hostile_fee.wasm",
        json!({ "mode": "panic", "after-secs": turn }),
    );
    standin.daemon.lock().unwrap().node.advance_to(turn + 600);
}

#[test]
fn a_rollback_survives_a_restart() {
    let mut standin = StandIn::start(simulated_node(3), json!({}));
    load(
        &mut standin,
        "default",
        "embedded:static",
        json!({ "fee-ppm": 150 }),
    );
    load(&mut standin, "default", "embedded:balance-curve", json!({}));
    let rolled = standin
        .call("revenue-policy-rollback", json!(["fee", "default"]))
        .unwrap();
    assert!(
        label_of(&rolled, "active").starts_with("static@"),
        "{rolled}"
    );
    standin.run_fee_cycle();

    let mut restarted = restart(standin);
    let default = slot(&mut restarted, "default").expect("default slot");
    assert!(
        label_of(&default, "active").starts_with("static@"),
        "the version rolled back to serves: {default}"
    );
    assert!(
        label_of(&default, "last_known_good").starts_with("balance-curve@"),
        "the version rolled back from is the last-known-good: {default}"
    );
    // static's parameters came back with it: its 150 ppm are already on the chain.
    let cycle = restarted.run_fee_cycle();
    assert_eq!(cycle["counts"]["unchanged"], 3, "{cycle}");
    assert!(restarted.calls_of("setchannel").is_empty());
}

#[test]
fn a_quarantined_version_never_serves_again_after_a_restart() {
    let mut standin = StandIn::start(simulated_node(3), json!({}));
    load(
        &mut standin,
        "default",
        "embedded:static",
        json!({ "fee-ppm": 150 }),
    );
    standin.run_fee_cycle();
    turn_hostile(&mut standin, "default");
    for _ in 0..3 {
        standin.run_fee_cycle();
    }
    let before = slot(&mut standin, "default").unwrap();
    assert_eq!(before["state"], "fallback", "{before}");

    let mut restarted = restart(standin);
    let after = slot(&mut restarted, "default").unwrap();
    assert_eq!(after["state"], "fallback", "{after}");
    assert!(label_of(&after, "active").starts_with("static@"), "{after}");
    assert!(
        label_of(&after, "quarantined").starts_with("hostile-fee@"),
        "{after}"
    );
    assert!(
        after["last_error"]
            .as_str()
            .unwrap_or_default()
            .contains("deliberate panic"),
        "{after}"
    );
    let cycle = restarted.run_fee_cycle();
    assert_eq!(cycle["policy_error"], Value::Null, "{cycle}");
    assert!(cycle["policy"].as_str().unwrap().starts_with("static@"));
}

#[test]
fn a_holding_slot_stays_holding_after_a_restart() {
    let mut standin = StandIn::start(simulated_node(3), json!({}));
    let channel = standin.daemon.lock().unwrap().node.channel_ids()[0].to_string();
    turn_hostile(&mut standin, "premium");
    standin
        .call("revenue-policy-assign", json!(["fee", "premium", channel]))
        .unwrap();
    for _ in 0..3 {
        standin.run_fee_cycle();
    }
    assert_eq!(slot(&mut standin, "premium").unwrap()["state"], "holding");

    let mut restarted = restart(standin);
    let premium = slot(&mut restarted, "premium").unwrap();
    assert_eq!(premium["state"], "holding", "{premium}");
    assert_eq!(premium["active"], Value::Null, "{premium}");
    assert!(
        label_of(&premium, "quarantined").starts_with("hostile-fee@"),
        "{premium}"
    );
    restarted.run_fee_cycle();
    assert!(
        restarted
            .calls_of("setchannel")
            .iter()
            .all(|call| call["id"] != json!(channel)),
        "the holding slot's channel keeps its fee"
    );
}

#[test]
fn a_removed_slot_stays_removed_and_its_channels_return_to_the_default_slot() {
    let mut standin = StandIn::start(simulated_node(3), json!({}));
    let channel = standin.daemon.lock().unwrap().node.channel_ids()[0].to_string();
    load(
        &mut standin,
        "premium",
        "embedded:static",
        json!({ "fee-ppm": 170 }),
    );
    standin
        .call("revenue-policy-assign", json!(["fee", "premium", channel]))
        .unwrap();
    let removed = standin
        .call("revenue-policy-remove", json!(["fee", "premium"]))
        .unwrap();
    assert_eq!(removed["removed"], "premium", "{removed}");
    assert_eq!(removed["unassigned"], json!([channel]), "{removed}");
    assert_eq!(slot(&mut standin, "premium"), None);
    let again = standin
        .call("revenue-policy-remove", json!(["fee", "premium"]))
        .unwrap_err();
    assert_eq!(again["code"], 1602, "{again}");
    let default = standin
        .call("revenue-policy-remove", json!(["fee", "default"]))
        .unwrap_err();
    assert_eq!(default["code"], -32602, "{default}");
    assert!(slot(&mut standin, "default").is_some());

    let mut restarted = restart(standin);
    assert_eq!(slot(&mut restarted, "premium"), None);
    let status = restarted.call("revenue-status", json!([])).unwrap();
    assert_eq!(status["assignments"], json!([]), "{status}");
}

#[test]
fn load_and_shadow_answer_alike_and_never_probe_outside_the_policy_directory() {
    let mut standin = StandIn::start(simulated_node(2), json!({}));
    // A file that exists outside the policy directory, and one that does not.
    let outside = standin.dir().join("revops").join("outside.wasm");
    std::fs::write(&outside, b"\0asm").unwrap();
    for (path, code, words) in [
        ("missing.wasm", 1602, "No such file"),
        ("../outside.wasm", 1601, "outside the policy directory"),
        ("../nothing-here.wasm", 1601, "outside the policy directory"),
        ("../../../../x.wasm", 1601, "outside the policy directory"),
    ] {
        let load = standin
            .call("revenue-policy-load", json!(["fee", "default", path]))
            .unwrap_err();
        let shadow = standin
            .call("revenue-policy-shadow", json!(["fee", path]))
            .unwrap_err();
        for (method, error) in [("load", &load), ("shadow", &shadow)] {
            assert_eq!(error["code"], code, "{method} {path}: {error}");
            let message = error["message"].as_str().unwrap();
            assert!(message.contains(words), "{method} {path}: {message}");
        }
    }
}

#[test]
fn policy_failures_log_warnings_with_plain_slot_names() {
    // At info level: the compiler's debug lines would bury the plugin's own.
    let dir = tempfile::tempdir().unwrap();
    let mut standin = StandIn::start_with_env(
        dir,
        simulated_node(2),
        json!({}),
        &[("CLN_PLUGIN_LOG", "info")],
    );
    load(
        &mut standin,
        "default",
        "embedded:static",
        json!({ "fee-ppm": 150 }),
    );
    turn_hostile(&mut standin, "default");
    for _ in 0..3 {
        standin.run_fee_cycle();
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let quarantined = |logs: &[String]| logs.iter().any(|l| l.contains("policy quarantined"));
    while !quarantined(&standin.logs()) {
        assert!(
            Instant::now() < deadline,
            "no quarantine logged: {:#?}",
            standin.logs()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let logs = standin.logs();
    assert!(
        logs.iter()
            .any(|l| l.starts_with("[warn]") && l.contains("policy quarantined")),
        "{logs:#?}"
    );
    assert!(
        logs.iter().any(|l| l.contains("slot=\"default\"")),
        "{logs:#?}"
    );
    let doubled: Vec<&String> = logs.iter().filter(|l| l.contains("\"\"")).collect();
    assert!(doubled.is_empty(), "doubled quotes: {doubled:#?}");
    // lightningd shows `error` as BROKEN, its word for its own bugs.
    let broken: Vec<&String> = logs.iter().filter(|l| l.starts_with("[error]")).collect();
    assert!(
        broken.is_empty(),
        "a policy's failure is a warning: {broken:#?}"
    );
}
