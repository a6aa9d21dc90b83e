//! Fee cycles through the stand-in: real `setchannel` calls, hysteresis and idempotency,
//! hot swap over RPC mid-run, hostile policies, dry-run.

use revops::model::sample::SAMPLE_NOW_SECS;
use revops_tests::standin::{StandIn, simulated_node};
use serde_json::{Value, json};

#[test]
fn a_cycle_sets_fees_once_and_then_leaves_them_alone() {
    let mut standin = StandIn::start(simulated_node(4), json!({}));
    standin
        .load_fee_policy("default", "embedded:static", json!({ "fee-ppm": 150 }))
        .unwrap();
    let first = standin.run_fee_cycle();
    assert_eq!(first["counts"]["applied"], 4, "{first}");
    let calls = standin.calls_of("setchannel");
    assert_eq!(calls.len(), 4);
    for call in &calls {
        assert_eq!(call["feeppm"], 150, "{call}");
        // cln-rpc sends amounts in lightningd's string form.
        assert_eq!(call["feebase"], "1000msat", "{call}");
        assert!(
            call["id"].as_str().unwrap().contains('x'),
            "scid form: {call}"
        );
    }
    // Nothing changed since: no setchannel at all.
    let second = standin.run_fee_cycle();
    assert_eq!(second["counts"]["unchanged"], 4, "{second}");
    assert_eq!(standin.calls_of("setchannel").len(), 4);
    // 150 → 155 is within the 5 % hysteresis: recorded as suppressed, not sent.
    standin
        .load_fee_policy("default", "embedded:static", json!({ "fee-ppm": 155 }))
        .unwrap();
    let third = standin.run_fee_cycle();
    assert_eq!(third["counts"]["suppressed"], 4, "{third}");
    assert_eq!(standin.calls_of("setchannel").len(), 4);
    let history = standin.call("revenue-fee-history", json!([])).unwrap();
    assert_eq!(history["broadcasts"].as_array().unwrap().len(), 4);
}

#[test]
fn dry_run_previews_without_touching_the_node() {
    let mut standin = StandIn::start(simulated_node(3), json!({}));
    standin
        .load_fee_policy("default", "embedded:static", json!({ "fee-ppm": 130 }))
        .unwrap();
    let preview = standin
        .call("revenue-run", json!({ "kind": "fee", "dry_run": true }))
        .unwrap();
    assert_eq!(preview["dry_run"], true);
    assert_eq!(preview["counts"]["applied"], 3);
    assert!(standin.calls_of("setchannel").is_empty());
    // The config key does the same for scheduled cycles.
    standin
        .call("revenue-config", json!(["set", "dry-run", true]))
        .unwrap();
    let cycle = standin.run_fee_cycle();
    assert_eq!(cycle["dry_run"], true);
    assert!(standin.calls_of("setchannel").is_empty());
}

#[test]
fn hot_swap_over_rpc_changes_the_next_cycle_without_a_restart() {
    // No minimum interval between broadcasts: every swap's fee may go out at once.
    let options = json!({ "revenue-min-broadcast-interval-secs": 0 });
    let mut standin = StandIn::start(simulated_node(3), options);
    let mut cycle_ids = Vec::new();
    for (round, fee) in [120u32, 170, 240, 170].into_iter().enumerate() {
        let report = standin
            .load_fee_policy("default", "embedded:static", json!({ "fee-ppm": fee }))
            .unwrap();
        if round > 0 {
            assert!(report["replaced"].as_str().unwrap().starts_with("static@"));
        }
        let cycle = standin.run_fee_cycle();
        cycle_ids.push(cycle["cycle_id"].as_u64().unwrap());
        assert!(cycle["policy"].as_str().unwrap().starts_with("static@"));
        let last = standin.calls_of("setchannel").last().cloned().unwrap();
        assert_eq!(last["feeppm"], fee, "round {round}: {cycle}");
    }
    assert_eq!(cycle_ids, vec![1, 2, 3, 4], "no cycle missed or repeated");
}

#[test]
fn the_scheduler_keeps_cycling_across_a_swap() {
    let mut standin = StandIn::start(simulated_node(3), json!({ "revenue-fee-interval-secs": 5 }));
    let wait_for_cycle = |standin: &mut StandIn, after: u64| -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let status = standin.call("revenue-status", json!([])).unwrap();
            let last = &status["last_cycle"]["fee"];
            if last["cycle_id"].as_u64().is_some_and(|id| id > after) {
                return last.clone();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no scheduled cycle: {status}"
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    };
    let first = wait_for_cycle(&mut standin, 0);
    assert!(
        first["policy"]
            .as_str()
            .unwrap()
            .starts_with("one-percent@")
    );
    standin
        .load_fee_policy("default", "embedded:static", json!({ "fee-ppm": 110 }))
        .unwrap();
    let id = first["cycle_id"].as_u64().unwrap();
    let mut next = wait_for_cycle(&mut standin, id);
    // A cycle already waiting on the lock may still have run the old version; the one after
    // must run the new one.
    if next["policy"].as_str().unwrap().starts_with("one-percent@") {
        next = wait_for_cycle(&mut standin, next["cycle_id"].as_u64().unwrap());
    }
    assert!(
        next["policy"].as_str().unwrap().starts_with("static@"),
        "{next}"
    );
    assert_eq!(next["policy_error"], Value::Null);
}

#[test]
fn a_hostile_policy_is_refused_and_the_node_keeps_its_fees() {
    let mut standin = StandIn::start(simulated_node(3), json!({}));
    standin.install_guest("hostile_fee.wasm");
    standin
        .load_fee_policy("default", "embedded:static", json!({ "fee-ppm": 150 }))
        .unwrap();
    standin.run_fee_cycle();
    let before = standin.calls_of("setchannel").len();
    for mode in ["loop", "oom", "panic", "absurd-fee", "huge-state"] {
        let error = standin
            .load_fee_policy("default", "hostile_fee.wasm", json!({ "mode": mode }))
            .unwrap_err();
        assert_eq!(error["code"], 1601, "{mode}: {error}");
        assert!(
            error["message"].as_str().unwrap().contains("canary"),
            "{mode}: {error}"
        );
    }
    let status = standin.call("revenue-status", json!([])).unwrap();
    assert_eq!(status["policies"][0]["name"], "static");
    standin.run_fee_cycle();
    assert_eq!(
        standin.calls_of("setchannel").len(),
        before,
        "fees untouched"
    );
}

#[test]
fn a_policy_that_turns_hostile_is_quarantined() {
    let mut standin = StandIn::start(simulated_node(3), json!({}));
    standin.install_guest("hostile_fee.wasm");
    standin
        .load_fee_policy("default", "embedded:static", json!({ "fee-ppm": 150 }))
        .unwrap();
    standin.run_fee_cycle();
    let turn = SAMPLE_NOW_SECS + 3600;
    standin
        .load_fee_policy(
            "default",
            "hostile_fee.wasm",
            json!({ "mode": "panic", "after-secs": turn }),
        )
        .unwrap();
    standin.daemon.lock().unwrap().node.advance_to(turn + 600);
    for _ in 0..3 {
        let cycle = standin.run_fee_cycle();
        assert!(
            cycle["policy_error"]
                .as_str()
                .unwrap()
                .contains("deliberate panic"),
            "{cycle}"
        );
    }
    let status = standin.call("revenue-status", json!([])).unwrap();
    assert_eq!(status["policies"][0]["state"], "fallback", "{status}");
    assert_eq!(status["policies"][0]["name"], "static");
    let recovered = standin.run_fee_cycle();
    assert_eq!(recovered["policy_error"], Value::Null);
    assert!(recovered["policy"].as_str().unwrap().starts_with("static@"));
    let list = standin.call("revenue-policy-list", json!([])).unwrap();
    assert!(
        list["slots"][0]["quarantined"]
            .as_str()
            .unwrap()
            .starts_with("hostile-fee@")
    );
}

#[test]
fn shadow_mode_compares_without_executing() {
    let mut standin = StandIn::start(simulated_node(4), json!({}));
    standin
        .load_fee_policy("default", "embedded:static", json!({ "fee-ppm": 130 }))
        .unwrap();
    let loaded = standin
        .call(
            "revenue-policy-shadow",
            json!(["fee", "embedded:balance-curve"]),
        )
        .unwrap();
    assert_eq!(loaded["policy"], "balance-curve");
    standin.run_fee_cycle();
    assert!(
        standin
            .calls_of("setchannel")
            .iter()
            .all(|c| c["feeppm"] == 130)
    );
    let compared = standin
        .call("revenue-policy-compare", json!(["fee"]))
        .unwrap();
    let shadow = &compared["shadow"];
    assert_eq!(shadow["cycles"], 1, "{compared}");
    assert_eq!(shadow["compared"], 4);
    assert!(shadow["differing"].as_u64().unwrap() > 0);
    assert!(compared["active"].as_str().unwrap().starts_with("static@"));
    standin
        .call("revenue-policy-shadow", json!(["fee", "off"]))
        .unwrap();
    let error = standin
        .call("revenue-policy-compare", json!(["fee"]))
        .unwrap_err();
    assert_eq!(error["code"], 1602);
}

#[test]
fn policies_can_be_assigned_per_channel_and_peer() {
    let mut standin = StandIn::start(simulated_node(4), json!({}));
    standin
        .load_fee_policy("default", "embedded:static", json!({ "fee-ppm": 130 }))
        .unwrap();
    standin
        .call(
            "revenue-policy-load",
            json!({ "kind": "fee", "name": "premium", "path": "embedded:static", "params": { "fee-ppm": 145 } }),
        )
        .unwrap();
    let channels = standin.daemon.lock().unwrap().node.channel_ids();
    let special = channels[2].to_string();
    let assigned = standin
        .call("revenue-policy-assign", json!(["fee", "premium", special]))
        .unwrap();
    assert_eq!(assigned["assignments"].as_array().unwrap().len(), 1);
    let cycle = standin.run_fee_cycle();
    let slots = cycle["slots"].as_array().unwrap();
    assert_eq!(slots.len(), 2, "{cycle}");
    assert!(
        slots
            .iter()
            .any(|s| s["slot"] == "premium" && s["channels"] == 1),
        "{cycle}"
    );
    let fees: std::collections::BTreeMap<String, u64> = standin
        .calls_of("setchannel")
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_owned(),
                c["feeppm"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(fees[&special], 145, "{fees:?}");
    assert!(
        fees.iter()
            .filter(|(id, _)| **id != special)
            .all(|(_, &fee)| fee == 130),
        "{fees:?}"
    );
    // Unknown slots and bad scopes are refused; default removes the assignment.
    let error = standin
        .call("revenue-policy-assign", json!(["fee", "nope", special]))
        .unwrap_err();
    assert_eq!(error["code"], 1602);
    let error = standin
        .call(
            "revenue-policy-assign",
            json!(["fee", "premium", "somebody"]),
        )
        .unwrap_err();
    assert_eq!(error["code"], -32602);
    let cleared = standin
        .call("revenue-policy-assign", json!(["fee", "default", special]))
        .unwrap();
    assert!(cleared["assignments"].as_array().unwrap().is_empty());
    let status = standin.call("revenue-status", json!([])).unwrap();
    assert_eq!(status["policies"].as_array().unwrap().len(), 2, "{status}");
}

#[test]
fn a_loaded_rebalance_policy_rebalances_through_lightningd() {
    let mut standin = StandIn::start(simulated_node(4), json!({}));
    let none = standin
        .call("revenue-run", json!(["rebalance"]))
        .unwrap_err();
    assert_eq!(none["code"], 1602, "no rebalance policy yet: {none}");
    let bad = standin
        .call("revenue-rebalance-run", json!({ "dry_run": "maybe" }))
        .unwrap_err();
    assert_eq!(bad["code"], -32602, "{bad}");
    standin.install_guest("simple_rebalance.wasm");
    standin
        .call(
            "revenue-policy-load",
            json!(["rebalance", "default", "simple_rebalance.wasm", { "amount-sat": 150000 }]),
        )
        .unwrap();
    let preview = standin
        .call("revenue-rebalance-run", json!({ "dry_run": true }))
        .unwrap();
    assert_eq!(preview["decisions"][0]["verdict"], "go", "{preview}");
    assert!(
        standin.calls_of("sendpay").is_empty(),
        "a dry run pays nothing"
    );
    let report = standin.call("revenue-run", json!(["rebalance"])).unwrap();
    assert_eq!(
        report["decisions"][0]["outcome"]["outcome"], "completed",
        "{report}"
    );
    assert_eq!(standin.calls_of("sendpay").len(), 1);
    let history = standin
        .call("revenue-rebalance-history", json!([]))
        .unwrap();
    assert_eq!(history["rebalances"].as_array().unwrap().len(), 1);
    assert!(
        history["fees_paid_24h_msat"].as_u64().unwrap() > 0,
        "{history}"
    );
    let error = standin
        .call(
            "revenue-policy-shadow",
            json!(["rebalance", "simple_rebalance.wasm"]),
        )
        .unwrap_err();
    assert_eq!(error["code"], 1605);
}

#[test]
fn a_loaded_rebalance_policy_rebalances_on_schedule() {
    let mut standin = StandIn::start(
        simulated_node(4),
        json!({ "revenue-rebalance-interval-secs": 5 }),
    );
    let status = standin.call("revenue-status", json!([])).unwrap();
    assert_eq!(status["last_cycle"]["rebalance"], Value::Null, "{status}");
    standin.install_guest("simple_rebalance.wasm");
    standin
        .call(
            "revenue-policy-load",
            json!(["rebalance", "default", "simple_rebalance.wasm", { "amount-sat": 150000 }]),
        )
        .unwrap();
    // Nobody calls `revenue-run`: the scheduler must.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let last = loop {
        let status = standin.call("revenue-status", json!([])).unwrap();
        let last = status["last_cycle"]["rebalance"].clone();
        if !last.is_null() {
            break last;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no scheduled rebalance cycle: {status}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert!(
        last["policy"]
            .as_str()
            .unwrap()
            .starts_with("simple-rebalance@"),
        "{last}"
    );
    assert_eq!(last["completed"], 1, "{last}");
    assert!(last["fees_paid_msat"].as_u64().unwrap() > 0, "{last}");
    assert!(!standin.calls_of("sendpay").is_empty());
}
