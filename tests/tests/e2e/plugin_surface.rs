//! The plugin's surface through the stand-in lightningd: manifest, options, methods, errors.

use revops_tests::standin::{StandIn, simulated_node};
use serde_json::{Value, json};

fn names(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|item| item[key].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn manifest_lists_every_option_method_and_subscription() {
    let standin = StandIn::start(simulated_node(4), json!({}));
    let manifest = &standin.manifest;
    assert_eq!(manifest["dynamic"], true);
    let methods = names(&manifest["rpcmethods"], "name");
    for (method, _, _) in revops::plugin::METHODS {
        assert!(methods.contains(&method.to_string()), "{method} missing");
    }
    for method in manifest["rpcmethods"].as_array().unwrap() {
        assert!(
            !method["description"].as_str().unwrap().is_empty(),
            "{method}"
        );
    }
    let options = names(&manifest["options"], "name");
    for option in [
        "revenue-data-dir",
        "revenue-policy-dir",
        "revenue-fee-policy",
        "revenue-fee-interval-secs",
        "revenue-min-fee-ppm",
        "revenue-max-fee-ppm",
        "revenue-hysteresis-pct",
        "revenue-max-broadcasts-per-day",
        "revenue-dry-run",
    ] {
        assert!(
            options.contains(&option.to_string()),
            "{option} missing: {options:?}"
        );
    }
    let subscriptions: Vec<&str> = manifest["subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    for topic in [
        "forward_event",
        "block_added",
        "channel_state_changed",
        "shutdown",
    ] {
        assert!(subscriptions.contains(&topic), "{topic} missing");
    }
    assert_eq!(standin.init_result, json!({}), "init accepted");
}

#[test]
fn status_reports_the_default_policy() {
    let mut standin = StandIn::start(simulated_node(4), json!({}));
    let status = standin.call("revenue-status", json!({})).unwrap();
    assert_eq!(status["version"], env!("CARGO_PKG_VERSION"));
    let policies = status["policies"].as_array().unwrap();
    assert_eq!(policies.len(), 1);
    assert_eq!(policies[0]["kind"], "fee");
    assert_eq!(policies[0]["name"], "one-percent");
    assert_eq!(policies[0]["state"], "serving");
    assert_eq!(policies[0]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(status["config_generation"], 0);
}

#[test]
fn bad_params_get_coded_errors_and_the_plugin_lives_on() {
    let mut standin = StandIn::start(simulated_node(4), json!({}));
    let cases = [
        ("revenue-status", json!({"verbose": true}), -32602),
        ("revenue-run", json!([]), -32602),
        ("revenue-run", json!({"kind": "tip"}), -32602),
        (
            "revenue-run",
            json!({"kind": "fee", "dry_run": "maybe"}),
            -32602,
        ),
        ("revenue-policy-load", json!(["fee", "default"]), -32602),
        (
            "revenue-policy-load",
            json!(["fee", "default", "../../etc/passwd"]),
            // Outside the policy directory, judged before the filesystem is asked.
            1601,
        ),
        (
            "revenue-policy-load",
            json!(["fee", "default", "embedded:nope"]),
            1602,
        ),
        (
            "revenue-policy-load",
            json!({"kind": "fee", "path": "embedded:static", "params": {"fee-ppm": -3}}),
            -32602,
        ),
        ("revenue-policy-rollback", json!(["fee"]), 1602),
        (
            "revenue-config",
            json!(["set", "fee.min-ppm", "lots"]),
            -32602,
        ),
        ("revenue-config", json!(["set", "no.such-key", 1]), 1602),
        ("revenue-config", json!(["explode"]), -32602),
        ("revenue-fee-history", json!(["not-a-channel"]), -32602),
        ("revenue-fee-history", json!({"limit": -1}), -32602),
    ];
    for (method, params, code) in cases {
        let error = standin
            .call(method, params.clone())
            .expect_err(&format!("{method} {params} accepted"));
        assert_eq!(error["code"], code, "{method} {params}: {error}");
        assert!(!error["message"].as_str().unwrap().is_empty());
    }
    assert!(standin.alive());
    standin
        .call("revenue-status", json!([]))
        .expect("still serving");
}

#[test]
fn config_changes_are_transactional_and_generational() {
    let mut standin = StandIn::start(simulated_node(4), json!({ "revenue-max-fee-ppm": 1800 }));
    let all = standin.call("revenue-config", json!([])).unwrap();
    assert_eq!(all["config"]["fee.max-ppm"], 1800, "the option is the base");
    let set = standin
        .call("revenue-config", json!(["set", "fee.min-ppm", "20"]))
        .unwrap();
    assert_eq!(
        (set["generation"].as_u64(), set["value"].as_u64()),
        (Some(1), Some(20))
    );
    let refused = standin
        .call("revenue-config", json!(["set", "fee.min-ppm", 5000]))
        .unwrap_err();
    assert_eq!(refused["code"], 1603, "{refused}");
    let got = standin
        .call(
            "revenue-config",
            json!({"action": "get", "key": "fee.min-ppm"}),
        )
        .unwrap();
    assert_eq!(
        (got["generation"].as_u64(), got["value"].as_u64()),
        (Some(1), Some(20))
    );
    standin
        .call("revenue-config", json!(["set", "fee.hysteresis-pct", 8]))
        .unwrap();
    // Setting the same value again changes nothing: no write, the generation stays.
    let again = standin
        .call("revenue-config", json!(["set", "fee.hysteresis-pct", 8]))
        .unwrap();
    assert_eq!(again["generation"], 2);
    let again = standin
        .call("revenue-config", json!(["set", "fee.hysteresis-pct", "8"]))
        .unwrap();
    assert_eq!(again["generation"], 2, "{again}");
    // A reset without an override changes nothing either.
    let noop = standin
        .call("revenue-config", json!(["reset", "fee.max-step-pct"]))
        .unwrap();
    assert_eq!(noop["generation"], 2, "{noop}");
    let reset = standin
        .call("revenue-config", json!(["reset", "fee.min-ppm"]))
        .unwrap();
    assert_eq!(reset["generation"], 3);
}
