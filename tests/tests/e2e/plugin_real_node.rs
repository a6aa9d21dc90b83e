//! Bugs a real CLN v26.06.6 node showed (issue 12), each reproduced through the stand-in:
//! malformed requests, start options against stored overrides, `setconfig` persistence, fee
//! bounds at every scope, and interrupted fee updates.

use revops_tests::standin::{StandIn, simulated_node};
use serde_json::{Value, json};

fn load_static(standin: &mut StandIn, fee_ppm: u32) {
    standin
        .load_fee_policy("default", "embedded:static", json!({ "fee-ppm": fee_ppm }))
        .unwrap();
}

/// `revenue-config get fee.max-ppm`, checked for its value and where that comes from.
fn expect_max_ppm(standin: &mut StandIn, value: u64, source: &str) -> Value {
    let got = standin
        .call("revenue-config", json!(["get", "fee.max-ppm"]))
        .unwrap();
    assert_eq!(
        (&got["value"], &got["source"]),
        (&json!(value), &json!(source))
    );
    got
}

fn run_fee(standin: &mut StandIn) -> Value {
    standin
        .call("revenue-run", json!({ "kind": "fee" }))
        .unwrap()
}

/// Bug 2: `lightning-cli revenue-status "[[[…]]]"` (126 levels) ended the plugin.
#[test]
fn malformed_requests_get_an_error_and_the_plugin_keeps_serving() {
    let mut standin = StandIn::start(simulated_node(2), json!({}));
    let deep = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    for (n, depth) in [30usize, 126, 200, 5000].into_iter().enumerate() {
        let id = format!("cli:revenue-status#{n}/cln:revenue-status#{}", 9000 + n);
        let text = format!(
            r#"{{ "jsonrpc" : "2.0", "id" : "{id}", "method" : "revenue-status", "params" :[ {} ] }}"#,
            deep(depth)
        );
        cases.push((id, text.into_bytes()));
    }
    let id = "cli:x#1/cln:revenue-config#9100".to_owned();
    cases.push((
        id.clone(),
        format!(r#"{{"jsonrpc":"2.0","id":"{id}","method":"revenue-config","params":[1e999]}}"#)
            .into_bytes(),
    ));
    let id = "cli:x#2/cln:revenue-config#9101".to_owned();
    let mut bad_utf8 =
        format!(r#"{{"jsonrpc":"2.0","id":"{id}","method":"revenue-config","params":["get",""#)
            .into_bytes();
    bad_utf8.extend_from_slice(&[0xC3, 0x28, 0xFF]);
    bad_utf8.extend_from_slice(br#""]}"#);
    cases.push((id, bad_utf8));
    for (id, text) in cases {
        let error = standin
            .request_raw(&id, &text)
            .expect_err("a malformed request is refused");
        assert_eq!(error["code"], -32602, "{error}");
        let message = error["message"].as_str().unwrap();
        assert!(message.len() < 400, "short: {message}");
        assert!(standin.alive());
        standin
            .call("revenue-status", json!([]))
            .expect("still serving after a malformed request");
    }
}

/// Bug 3: a dry-run (and a ceiling) given at start lost to a stored override, silently.
#[test]
fn a_safety_option_given_at_start_wins_over_a_stored_override() {
    let mut standin = StandIn::start(simulated_node(2), json!({}));
    standin
        .call("revenue-config", json!(["set", "dry-run", false]))
        .unwrap();
    standin
        .call("revenue-config", json!(["set", "fee.max-ppm", 2500]))
        .unwrap();
    let (dir, node, _) = standin.stop();

    let options = json!({ "revenue-dry-run": true, "revenue-max-fee-ppm": 3000 });
    let mut restarted = StandIn::start_in(dir, node, options);
    let status = restarted.call("revenue-status", json!([])).unwrap();
    assert_eq!(status["dry_run"], true, "{status}");
    expect_max_ppm(&mut restarted, 3000, "option");
    let logs = restarted.logs().join("\n");
    for option in ["revenue-dry-run=true", "revenue-max-fee-ppm=3000"] {
        assert!(
            logs.contains(&format!("{option} given at start wins")),
            "the start says which value won: {logs}"
        );
    }
    // Dry-run is really on: a cycle changes nothing on the node.
    load_static(&mut restarted, 500);
    let cycle = run_fee(&mut restarted);
    assert_eq!(cycle["dry_run"], true);
    assert!(restarted.calls_of("setchannel").is_empty());
}

/// Bug 4: `setconfig` of a revops option was persisted by lightningd in `config.setconfig`,
/// which a later start without the plugin refused (`unknown option`), and which brought an old
/// value back after `revenue-config reset`.
#[test]
fn setconfig_never_leaves_lightningd_a_config_it_cannot_start_with() {
    let mut standin = StandIn::start(simulated_node(2), json!({ "revenue-max-fee-ppm": 2200 }));
    for (option, value) in [
        ("revenue-max-fee-ppm", "100001"),
        ("revenue-dry-run", "true"),
        ("revenue-fee-interval-secs", "60"),
    ] {
        let refused = standin.setconfig(option, value).unwrap_err();
        assert_eq!(refused["code"], -32602, "{refused}");
        assert!(
            refused["message"]
                .as_str()
                .unwrap()
                .contains("Not a dynamic config option"),
            "{refused}"
        );
    }
    assert!(
        !standin.dir().join("config.setconfig").exists(),
        "nothing persisted for lightningd's next start"
    );
    // The one way to change a value at run time, and the one place it is kept.
    standin
        .call("revenue-config", json!(["set", "fee.max-ppm", 1800]))
        .unwrap();
    let got = expect_max_ppm(&mut standin, 1800, "override");
    // listconfigs shows what lightningd passed at start; revenue-config says both, and which
    // one is in force.
    let listed = standin.listconfigs("revenue-max-fee-ppm").unwrap();
    let listed = &listed["configs"]["revenue-max-fee-ppm"];
    assert_eq!(listed["value_int"], 2200, "{listed}");
    assert!(listed.get("dynamic").is_none(), "{listed}");
    assert_eq!(got["start_option"]["name"], "revenue-max-fee-ppm", "{got}");
    assert_eq!(got["start_option"]["value"], listed["value_int"], "{got}");
    let all = standin.call("revenue-config", json!([])).unwrap();
    let entry = all["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["key"] == "fee.max-ppm")
        .unwrap()
        .clone();
    assert_eq!(entry["start_option"], "revenue-max-fee-ppm", "{entry}");
    assert_eq!(entry["range"]["min"], 1, "{entry}");
    standin
        .call("revenue-config", json!(["reset", "fee.max-ppm"]))
        .unwrap();
    expect_max_ppm(&mut standin, 2200, "option");
    let (dir, node, _) = standin.stop();
    let mut restarted = StandIn::start_in(dir, node, json!({}));
    expect_max_ppm(&mut restarted, 2500, "default");
}

/// Bug 1: a scoped ceiling of 0 was accepted and switched the ceiling off.
#[test]
fn a_fee_ceiling_holds_at_every_scope() {
    let mut standin = StandIn::start(simulated_node(2), json!({}));
    let scid = standin.daemon.lock().unwrap().node.channel_ids()[0].to_string();
    let refused = standin
        .call(
            "revenue-config",
            json!(["set", format!("fee.max-ppm@{scid}"), 0]),
        )
        .unwrap_err();
    assert_eq!(refused["code"], -32602, "{refused}");
    // A scoped floor above the ceiling it inherits is refused too.
    let refused = standin
        .call(
            "revenue-config",
            json!(["set", format!("fee.min-ppm@{scid}"), 4000]),
        )
        .unwrap_err();
    assert_eq!(refused["code"], 1603, "{refused}");
    standin
        .call(
            "revenue-config",
            json!(["set", format!("fee.max-ppm@{scid}"), 3000]),
        )
        .unwrap();
    standin
        .call(
            "revenue-config",
            json!(["set", format!("fee.min-ppm@{scid}"), 2800]),
        )
        .unwrap();
    load_static(&mut standin, 5000);
    run_fee(&mut standin);
    for call in standin.calls_of("setchannel") {
        let ceiling = if call["id"] == json!(scid) {
            3000
        } else {
            2500
        };
        assert!(
            call["feeppm"].as_u64().unwrap() <= ceiling,
            "over the ceiling: {call}"
        );
    }
    // A tighter ceiling applies at once, before the broadcast interval is over.
    let on_chain = standin
        .calls_of("setchannel")
        .into_iter()
        .rfind(|c| c["id"] == json!(scid))
        .unwrap()["feeppm"]
        .as_u64()
        .unwrap();
    let tighter = on_chain - 10;
    standin
        .call(
            "revenue-config",
            json!(["reset", format!("fee.min-ppm@{scid}")]),
        )
        .unwrap();
    standin
        .call(
            "revenue-config",
            json!(["set", format!("fee.max-ppm@{scid}"), tighter]),
        )
        .unwrap();
    run_fee(&mut standin);
    let last = standin
        .calls_of("setchannel")
        .into_iter()
        .rfind(|c| c["id"] == json!(scid))
        .unwrap();
    assert_eq!(last["feeppm"], tighter, "{last}");
}

/// Bug 9: a `setchannel` interrupted by a crash stayed pending forever, and the fee it set had
/// no broadcast time, so the daily broadcast limit undercounted.
#[test]
fn an_interrupted_fee_update_is_closed_out_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut standin = StandIn::start_with_env(
        dir,
        simulated_node(1),
        json!({}),
        &[("REVOPS_FAILPOINT", "fee-after-setchannel")],
    );
    load_static(&mut standin, 700);
    assert!(
        standin.call_expecting_exit("revenue-run", json!({ "kind": "fee" })),
        "the failpoint kills revops after setchannel"
    );
    let applied = standin.calls_of("setchannel");
    assert_eq!(applied.len(), 1);
    let (dir, node, _) = standin.after_crash();

    let mut restarted = StandIn::start_in(dir, node, json!({}));
    let status = restarted.call("revenue-status", json!([])).unwrap();
    assert_eq!(status["pending_actions"], 1, "{status}");
    run_fee(&mut restarted);
    let status = restarted.call("revenue-status", json!([])).unwrap();
    assert_eq!(status["pending_actions"], 0, "reconciled: {status}");
    let history = restarted.call("revenue-fee-history", json!([])).unwrap();
    let broadcasts = history["broadcasts"].as_array().unwrap();
    assert_eq!(
        broadcasts.len(),
        1,
        "the update that reached the chain is booked: {history}"
    );
    assert_eq!(broadcasts[0]["fee_ppm"], applied[0]["feeppm"]);
    let (dir, node, _) = restarted.stop();
    let again = StandIn::start_in(dir, node, json!({}));
    assert!(
        !again
            .logs()
            .join("\n")
            .contains("actions interrupted by the last shutdown"),
        "nothing left pending for the next start"
    );
}

/// Bug 10: scopes and assignments naming unknown channels were accepted silently.
#[test]
fn scopes_and_assignments_name_channels_the_node_has() {
    let mut standin = StandIn::start(simulated_node(2), json!({}));
    let unknown_peer = format!("02{}", "ab".repeat(32));
    for scope in ["999x9x9".to_owned(), unknown_peer.clone()] {
        let refused = standin
            .call(
                "revenue-config",
                json!(["set", format!("fee.max-ppm@{scope}"), 900]),
            )
            .unwrap_err();
        assert_eq!(refused["code"], 1602, "{refused}");
        assert!(
            refused["message"].as_str().unwrap().contains("no channel"),
            "{refused}"
        );
    }
    standin
        .call(
            "revenue-policy-load",
            json!(["fee", "premium", "embedded:balance-curve"]),
        )
        .unwrap();
    let refused = standin
        .call(
            "revenue-policy-assign",
            json!(["fee", "premium", "999x9x9"]),
        )
        .unwrap_err();
    assert_eq!(refused["code"], 1602, "{refused}");
    let scid = standin.daemon.lock().unwrap().node.channel_ids()[0].to_string();
    standin
        .call("revenue-policy-assign", json!(["fee", "premium", scid]))
        .unwrap();
    standin
        .call(
            "revenue-config",
            json!(["set", format!("fee.max-ppm@{scid}"), 900]),
        )
        .unwrap();
    // Resetting a scoped key always works, whatever the node has now.
    standin
        .call("revenue-config", json!(["reset", "fee.max-ppm@999x9x9"]))
        .unwrap();
    let status = standin.call("revenue-status", json!([])).unwrap();
    assert_eq!(status["config_generation"], 1, "{status}");
}

/// Bug 10: a new `fee.interval-secs` waited for the current sleep (up to the old interval),
/// and a tighter ceiling waited for the next scheduled cycle.
#[test]
fn a_changed_interval_and_a_tighter_ceiling_apply_at_once() {
    let options = json!({ "revenue-fee-interval-secs": 86_400 });
    let mut standin = StandIn::start(simulated_node(2), options);
    load_static(&mut standin, 2000);
    run_fee(&mut standin);
    let on_chain = standin.calls_of("setchannel")[0]["feeppm"]
        .as_u64()
        .unwrap();
    let tighter = on_chain - 10;
    let cycles_before =
        standin.call("revenue-status", json!([])).unwrap()["last_cycle"]["fee"]["cycle_id"].clone();
    // A tighter ceiling wakes the fee loop: the chain is corrected without waiting a day.
    standin
        .call("revenue-config", json!(["set", "fee.max-ppm", tighter]))
        .unwrap();
    let corrected = wait_for(|| {
        standin
            .calls_of("setchannel")
            .iter()
            .any(|c| c["feeppm"] == tighter)
    });
    assert!(corrected, "the ceiling reached the chain at once");
    // A shorter interval is counted from the last cycle, not after the day-long sleep.
    standin
        .call("revenue-config", json!(["set", "fee.interval-secs", 5]))
        .unwrap();
    let mut cycled = false;
    for _ in 0..60 {
        std::thread::sleep(std::time::Duration::from_millis(500));
        let status = standin.call("revenue-status", json!([])).unwrap();
        let id = &status["last_cycle"]["fee"]["cycle_id"];
        if id.as_u64() > cycles_before.as_u64().map(|c| c + 1) {
            cycled = true;
            break;
        }
    }
    assert!(cycled, "a cycle within the new interval");
}

fn wait_for(mut condition: impl FnMut() -> bool) -> bool {
    for _ in 0..100 {
        if condition() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    false
}

/// Bug 10: error messages echoed the whole input (a 50 MB string took 18 s to come back).
#[test]
fn error_messages_quote_a_huge_input_briefly() {
    let mut standin = StandIn::start(simulated_node(1), json!({}));
    let huge = "9".repeat(5_000_000);
    let started = std::time::Instant::now();
    for params in [
        json!(["set", "fee.min-ppm", huge]),
        json!(["set", huge, 1]),
        json!({ "action": huge }),
        json!({ huge.clone(): 1 }),
    ] {
        let error = standin.call("revenue-config", params).unwrap_err();
        let message = error["message"].as_str().unwrap();
        assert!(message.chars().count() <= 600, "{} chars", message.len());
    }
    let error = standin
        .call("revenue-policy-load", json!(["fee", "default", huge]))
        .unwrap_err();
    assert!(error["message"].as_str().unwrap().chars().count() <= 600);
    println!(
        "4 calls with 5 MB inputs answered in {:?}",
        started.elapsed()
    );
}

/// Forwards that fail on our side (`local_failed`) have no `updated_index` on a real node, so
/// ingesting only `listforwards index=updated` never saw them: the demand an empty channel
/// turns away was invisible. Every one the node lists is in the ledger after a cycle.
#[test]
fn local_failures_are_ingested() {
    let mut node = simulated_node(12);
    node.advance_to(revops::model::sample::SAMPLE_NOW_SECS + 3 * 86_400);
    let local_failed = node.stats().forwards_failed_local;
    assert!(local_failed > 0, "three days drain some channels");
    let settled = node.stats().forwards_settled;
    let mut standin = StandIn::start(node, json!({}));
    load_static(&mut standin, 300);
    run_fee(&mut standin);
    let status = standin.call("revenue-status", json!([])).unwrap();
    assert_eq!(status["forwards"]["local_failed"], local_failed, "{status}");
    assert_eq!(status["forwards"]["settled"], settled, "{status}");
    let listings: Vec<String> = standin
        .calls_of("listforwards")
        .iter()
        .map(|params| params["index"].to_string())
        .collect();
    assert!(listings.contains(&"\"created\"".to_owned()), "{listings:?}");
}

/// Competitor fees come from gossip: one `listchannels destination=<peer>` per peer, then
/// nothing for an hour (the answers, in the captured shape, pass CLN's schema).
#[test]
fn competitor_fees_are_read_from_gossip_at_most_hourly() {
    let node = simulated_node(4);
    let peers: std::collections::BTreeSet<String> = node.channels_peer_ids().into_iter().collect();
    let mut standin = StandIn::start(node, json!({}));
    load_static(&mut standin, 300);
    run_fee(&mut standin);
    let asked: std::collections::BTreeSet<String> = standin
        .calls_of("listchannels")
        .iter()
        .map(|params| params["destination"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(asked, peers);
    run_fee(&mut standin);
    assert_eq!(standin.calls_of("listchannels").len(), peers.len());
}
