//! Restarts, shutdown, bad startup options, and lightningd misbehaving.

use revops::model::sample::SAMPLE_NOW_SECS;
use revops_tests::standin::{StandIn, daemon::Fault, simulated_node};
use serde_json::json;
use std::time::{Duration, Instant};

#[test]
fn a_restart_keeps_policy_fee_records_and_the_ingestion_cursor() {
    let mut standin = StandIn::start(simulated_node(4), json!({}));
    standin
        .call(
            "revenue-policy-load",
            json!(["fee", "default", "embedded:static", {"fee-ppm": 150}]),
        )
        .unwrap();
    standin
        .call(
            "revenue-policy-load",
            json!(["fee", "premium", "embedded:balance-curve"]),
        )
        .unwrap();
    let premium_peer = standin.daemon.lock().unwrap().node.channels_peer_ids()[0].clone();
    standin
        .call(
            "revenue-policy-assign",
            json!(["fee", "premium", premium_peer]),
        )
        .unwrap();
    standin.call("revenue-run", json!(["fee"])).unwrap();
    // A few simulated hours of traffic, then ingest it.
    standin
        .daemon
        .lock()
        .unwrap()
        .node
        .advance_to(SAMPLE_NOW_SECS + 12 * 3600);
    standin.call("revenue-run", json!(["fee"])).unwrap();
    let before = standin.call("revenue-status", json!([])).unwrap();
    let ingested = before["forwards_ingested_up_to"]["created_index"]
        .as_u64()
        .unwrap();
    assert!(ingested > 0, "{before}");

    let (dir, node, status) = standin.stop();
    assert!(status.success(), "clean exit on shutdown: {status}");

    let mut restarted = StandIn::start_in(dir, node, json!({}));
    let after = restarted.call("revenue-status", json!([])).unwrap();
    let policies = after["policies"].as_array().unwrap();
    assert_eq!(policies.len(), 2, "both slots restored: {after}");
    assert!(
        policies
            .iter()
            .any(|p| p["slot"] == "default" && p["name"] == "static"),
        "{after}"
    );
    assert!(
        policies
            .iter()
            .any(|p| p["slot"] == "premium" && p["name"] == "balance-curve"),
        "{after}"
    );
    assert_eq!(after["assignments"][0]["slot"], "premium", "{after}");
    assert_eq!(after["forwards_ingested_up_to"]["created_index"], ingested);
    let history = restarted.call("revenue-fee-history", json!([])).unwrap();
    assert!(
        history["broadcasts"].as_array().unwrap().len() >= 4,
        "fee records intact: {history}"
    );
    let cycle = restarted.call("revenue-run", json!(["fee"])).unwrap();
    // The three channels of the default slot keep static's 150 ppm: its params were restored.
    assert_eq!(cycle["counts"]["unchanged"], 3, "{cycle}");
    let resumed = restarted.calls_of("listforwards");
    assert_eq!(
        resumed[0]["start"],
        ingested + 1,
        "no re-ingestion from zero: {resumed:?}"
    );
    assert!(restarted.calls_of("setchannel").is_empty());
}

#[test]
fn bad_startup_options_disable_the_plugin_with_the_reason() {
    let standin = StandIn::start(simulated_node(2), json!({ "revenue-max-fee-ppm": -4 }));
    let reason = standin.init_result["disable"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(reason.contains("fee.max-ppm"), "{}", standin.init_result);
    let standin = StandIn::start(
        simulated_node(2),
        json!({ "revenue-fee-policy": "missing.wasm" }),
    );
    let reason = standin.init_result["disable"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(reason.contains("missing.wasm"), "{}", standin.init_result);
}

#[test]
fn lightningd_errors_are_reported_and_survived() {
    let mut standin = StandIn::start(simulated_node(3), json!({}));
    standin
        .call(
            "revenue-policy-load",
            json!(["fee", "default", "embedded:static", {"fee-ppm": 140}]),
        )
        .unwrap();
    standin.fail(
        "setchannel",
        Fault::Error {
            code: 209,
            message: "peer is being difficult".into(),
        },
    );
    let cycle = standin.call("revenue-run", json!(["fee"])).unwrap();
    assert_eq!(cycle["counts"]["failed"], 3, "{cycle}");
    assert!(
        cycle["outcomes"][0]["error"]
            .as_str()
            .unwrap()
            .contains("209"),
        "{cycle}"
    );
    standin.fail(
        "getinfo",
        Fault::Error {
            code: -1,
            message: "lightningd is busy".into(),
        },
    );
    let error = standin.call("revenue-run", json!(["fee"])).unwrap_err();
    assert_eq!(error["code"], 1604);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("lightningd is busy"),
        "{error}"
    );
    standin.heal("getinfo");
    standin.heal("setchannel");
    let retry = standin.call("revenue-run", json!(["fee"])).unwrap();
    assert_eq!(retry["counts"]["applied"], 3, "{retry}");
}

#[test]
fn a_hanging_lightningd_times_out_without_killing_the_plugin() {
    let mut standin = StandIn::start(simulated_node(2), json!({ "revenue-rpc-timeout-secs": 2 }));
    standin.fail("listpeerchannels", Fault::Hang);
    let started = Instant::now();
    let error = standin.call("revenue-run", json!(["fee"])).unwrap_err();
    assert_eq!(error["code"], 1604);
    assert!(
        error["message"].as_str().unwrap().contains("timed out"),
        "{error}"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(standin.alive());
    standin.heal("listpeerchannels");
    standin
        .call("revenue-run", json!(["fee"]))
        .expect("works again");
    let status = standin.call("revenue-status", json!([])).unwrap();
    assert_eq!(status["last_cycle_error"], serde_json::Value::Null);
}

#[test]
fn notifications_are_taken_in_stride() {
    use revops_tests::standin::shapes;
    let mut standin = StandIn::start(simulated_node(2), json!({}));
    standin.notify(&shapes::forward_event_settled());
    standin.notify(&shapes::block_added(900_001));
    standin
        .call("revenue-status", json!([]))
        .expect("alive after notifications");
    // The block triggered a feerate reading.
    let deadline = Instant::now() + Duration::from_secs(10);
    while standin.calls_of("feerates").is_empty() {
        assert!(
            Instant::now() < deadline,
            "no feerates call after block_added"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn losing_lightningd_ends_the_plugin_cleanly() {
    let mut standin = StandIn::start(simulated_node(2), json!({}));
    standin.call("revenue-run", json!(["fee"])).unwrap();
    let status = standin.close_stdin();
    assert!(status.success(), "{status}");
}
