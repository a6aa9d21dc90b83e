//! `revenue-profitability` through the stand-in: the plugin's ledger totals must match what
//! the simulated node actually forwarded and paid.

use revops::{
    node::Node,
    sim::{Scenario, SimNetwork},
};
use revops_tests::standin::StandIn;
use serde_json::{Value, json};
use std::time::{SystemTime, UNIX_EPOCH};

const DAY: u64 = 86_400;

/// A node whose market starts three days ago, so its forwards fall inside every window.
fn node_with_recent_history(channels: usize) -> (SimNetwork, u64) {
    node_with_history(channels, 3)
}

/// A node whose market (and forward history) starts `days` ago.
fn node_with_history(channels: usize, days: u64) -> (SimNetwork, u64) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut scenario = Scenario::builtin("default").unwrap();
    scenario.start = now - days * DAY;
    (SimNetwork::new(&scenario, Some(channels)), now)
}

fn u64_of(value: &Value) -> u64 {
    value
        .as_u64()
        .unwrap_or_else(|| panic!("not a u64: {value}"))
}

#[test]
fn profitability_matches_what_the_node_earned() {
    let (node, now) = node_with_recent_history(6);
    let mut standin = StandIn::start(node, json!({}));
    let earned = {
        let mut daemon = standin.daemon.lock().unwrap();
        daemon.node.advance_to(now);
        daemon.node.stats().fees_earned.msat()
    };
    assert!(earned > 0, "the simulated market forwarded nothing");
    // A dry-run cycle ingests the forwards without changing fees.
    standin
        .call("revenue-run", json!({ "kind": "fee", "dry_run": true }))
        .unwrap();

    let report = standin.call("revenue-profitability", json!([])).unwrap();
    let channels = report["channels"].as_array().unwrap();
    assert_eq!(channels.len(), 6, "{report}");
    assert_eq!(report["window_days"], json!([1, 7, 30]));
    let month = &report["totals"][2];
    assert_eq!(u64_of(&month["fees_earned_msat"]), earned, "{report}");
    assert_eq!(month["rebalance_costs_msat"], 0);
    assert_eq!(month["net_msat"], month["fees_earned_msat"]);
    let classes: usize = report["classes"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap() as usize)
        .sum();
    assert_eq!(classes, 6);
    for channel in channels {
        let windows = channel["windows"].as_array().unwrap();
        let fees: Vec<u64> = windows
            .iter()
            .map(|w| u64_of(&w["fees_earned_msat"]))
            .collect();
        assert!(fees[0] <= fees[1] && fees[1] <= fees[2], "{channel}");
        // Three days of history: the week and the month saw the same forwards.
        assert_eq!(fees[1], fees[2], "{channel}");
        assert!(
            channel["class_reason"]
                .as_str()
                .is_some_and(|r| !r.is_empty())
        );
    }

    let one = channels[0]["channel"].as_str().unwrap();
    let single = standin
        .call("revenue-profitability", json!({ "channel": one }))
        .unwrap();
    assert_eq!(single["channels"].as_array().unwrap().len(), 1);
    assert_eq!(single["channels"][0], channels[0]);

    let unknown = standin
        .call("revenue-profitability", json!(["999x9x9"]))
        .unwrap_err();
    assert_eq!(unknown["code"], 1602, "{unknown}");
    let malformed = standin
        .call("revenue-profitability", json!(["not-a-channel"]))
        .unwrap_err();
    assert_eq!(malformed["code"], -32602, "{malformed}");
}

#[test]
fn the_dashboard_adds_up() {
    let (node, now) = node_with_recent_history(5);
    let mut standin = StandIn::start(node, json!({}));
    let (earned, local) = {
        let mut daemon = standin.daemon.lock().unwrap();
        daemon.node.advance_to(now);
        let local: u64 = daemon
            .node
            .channels()
            .unwrap()
            .iter()
            .map(|c| c.to_us.msat())
            .sum();
        (daemon.node.stats().fees_earned.msat(), local)
    };
    standin
        .call("revenue-run", json!({ "kind": "fee", "dry_run": true }))
        .unwrap();
    let dashboard = standin.call("revenue-dashboard", json!([])).unwrap();
    assert_eq!(dashboard["channels"], 5, "{dashboard}");
    assert_eq!(u64_of(&dashboard["channels_local_msat"]), local);
    assert_eq!(
        u64_of(&dashboard["liquidating_value_msat"]),
        local + u64_of(&dashboard["onchain_msat"])
    );
    assert!(u64_of(&dashboard["onchain_msat"]) > 0, "from listfunds");
    let month = &dashboard["periods"][2];
    assert_eq!(month["days"], 30);
    assert_eq!(u64_of(&month["fees_earned_msat"]), earned);
    assert_eq!(month["net_profit_msat"], month["fees_earned_msat"]);
    assert_eq!(month["operating_margin_pct"], 100, "no costs yet");
    assert!(month["annualised_return_on_capacity_bp"].as_i64().unwrap() > 0);
    assert!(dashboard["bleeders"].as_array().unwrap().is_empty());
    assert!(dashboard["warnings"].is_array());

    let refused = standin
        .call("revenue-dashboard", json!({ "verbose": true }))
        .unwrap_err();
    assert_eq!(refused["code"], -32602, "{refused}");
}

#[test]
fn the_capacity_report_never_closes_before_the_defibrillator_tried() {
    // Nine days of history: a week without forwards means something.
    let (node, now) = node_with_history(16, 9);
    let mut standin = StandIn::start(node, json!({}));
    standin.daemon.lock().unwrap().node.advance_to(now);
    standin
        .call("revenue-run", json!({ "kind": "fee", "dry_run": true }))
        .unwrap();
    let profitability = standin.call("revenue-profitability", json!([])).unwrap();
    let report = standin.call("revenue-capacity-report", json!([])).unwrap();
    let channels = report["channels"].as_array().unwrap();
    assert_eq!(channels.len(), 16, "{report}");
    let mut defibrillated = 0;
    for (advice, figures) in channels
        .iter()
        .zip(profitability["channels"].as_array().unwrap())
    {
        assert_eq!(advice["channel"], figures["channel"]);
        let recommendation = advice["recommendation"].as_str().unwrap();
        assert!(
            !["close", "splice-out"].contains(&recommendation),
            "pruner rule broken: {advice}"
        );
        if ["stagnant-candidate", "underwater", "bleeder"]
            .contains(&figures["class"].as_str().unwrap())
        {
            assert_eq!(recommendation, "defibrillate", "{advice}");
            defibrillated += 1;
        }
        assert!(!advice["reason"].as_str().unwrap().is_empty());
    }
    assert!(
        defibrillated > 0,
        "the default scenario has dead channels: {profitability}"
    );
}

#[test]
fn the_defibrillator_sends_a_diagnostic_and_prices_the_channel_at_zero() {
    let (node, now) = node_with_history(6, 9);
    let mut standin = StandIn::start(node, json!({}));
    standin.daemon.lock().unwrap().node.advance_to(now);
    let dead = {
        let daemon = standin.daemon.lock().unwrap();
        let index = daemon
            .node
            .labels()
            .iter()
            .position(|l| l == "dead")
            .unwrap();
        daemon.node.channel_ids()[index].to_string()
    };
    standin
        .call(
            "revenue-policy-load",
            json!(["rebalance", "default", "embedded:rebalance-ev"]),
        )
        .unwrap();
    let report = standin.call("revenue-rebalance-run", json!([])).unwrap();
    let diagnostic = report["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["proposal"]["kind"] == "diagnostic")
        .unwrap_or_else(|| panic!("no diagnostic proposed: {report}"));
    assert_eq!(
        diagnostic["proposal"]["destination"],
        json!(dead),
        "{report}"
    );
    assert_eq!(diagnostic["verdict"], "go", "{diagnostic}");
    assert!(u64_of(&diagnostic["max_fee"]) <= 100_000, "{diagnostic}");
    assert_eq!(
        diagnostic["outcome"]["outcome"], "completed",
        "{diagnostic}"
    );

    // The next fee cycle puts the probed channel at zero through setchannel.
    standin.call("revenue-run", json!(["fee"])).unwrap();
    let zeroed = standin
        .calls_of("setchannel")
        .iter()
        .any(|call| call["id"] == json!(dead) && call["feeppm"] == 0);
    assert!(zeroed, "{:?}", standin.calls_of("setchannel"));

    let history = standin
        .call("revenue-rebalance-history", json!([]))
        .unwrap();
    assert_eq!(history["rebalances"][0]["kind"], "diagnostic", "{history}");
    assert_eq!(history["probes"][0]["channel"], json!(dead), "{history}");
    assert_eq!(history["probes"][0]["ended_at"], Value::Null);

    let capacity = standin.call("revenue-capacity-report", json!([])).unwrap();
    let advice = capacity["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["channel"] == json!(dead))
        .unwrap();
    assert_eq!(advice["diagnostic_attempts_14d"], 1, "{advice}");
    assert_eq!(
        advice["recommendation"], "defibrillate",
        "one attempt is not enough: {advice}"
    );
    assert!(advice["probe_until"].as_u64().unwrap() > now, "{advice}");

    // A second diagnostic into the same channel waits for the probe.
    let again = standin.call("revenue-rebalance-run", json!([])).unwrap();
    assert!(
        again["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| { d["proposal"]["destination"] != json!(dead) || d["verdict"] == "refuse" }),
        "{again}"
    );
}

#[test]
fn open_costs_come_from_the_bookkeeper_and_are_unknown_without_it() {
    // Eight channels: the seventh was opened by its peer.
    let (node, now) = node_with_recent_history(8);
    let mut standin = StandIn::start(node, json!({}));
    standin.daemon.lock().unwrap().node.advance_to(now);
    standin
        .call("revenue-run", json!({ "kind": "fee", "dry_run": true }))
        .unwrap();
    let report = standin.call("revenue-profitability", json!([])).unwrap();
    let channels = report["channels"].as_array().unwrap();
    let listed = standin.daemon.lock().unwrap().node.channels().unwrap();
    for (row, channel) in channels.iter().zip(&listed) {
        // The simulated funding transactions: 154 vbytes at 2,000 sat per 1,000 vbytes.
        let expected = match channel.opener {
            revops::model::Opener::Local => 308_000,
            revops::model::Opener::Remote => 0,
        };
        assert_eq!(row["open_cost_msat"], expected, "{row}");
    }
    assert!(
        listed
            .iter()
            .any(|c| c.opener == revops::model::Opener::Remote)
    );
    assert!(
        channels
            .iter()
            .any(|c| c["open_cost_payback_days"].is_u64()),
        "an earning channel we opened has a payback time: {report}"
    );
    // lightningd without the bookkeeper plugin answers "Unknown command".
    standin.fail(
        "bkpr-listincome",
        revops_tests::standin::daemon::Fault::Error {
            code: -32601,
            message: "Unknown command 'bkpr-listincome'".into(),
        },
    );
    let report = standin.call("revenue-profitability", json!([])).unwrap();
    assert!(
        report["channels"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["open_cost_msat"].is_null() && c["open_cost_payback_days"].is_null()),
        "{report}"
    );
}
