//! The stand-in checks every message on it against CLN v26.06.6's schemas, and its own
//! answers pass.

use revops::{
    money::Msat,
    node::{Forward, ForwardStatus},
};
use revops_tests::{
    schema,
    standin::{StandIn, serve_socket, shapes, simulated_node},
};
use serde_json::{Value, json};
use std::{
    io::{BufRead, BufReader, Write},
    os::unix::net::UnixStream,
};

/// Sends one request on the socket as a client would and reads the answer.
fn call_socket(path: &std::path::Path, request: &Value) -> Value {
    let mut stream = UnixStream::connect(path).expect("connect");
    let mut text = request.to_string();
    text.push_str("\n\n");
    stream.write_all(text.as_bytes()).unwrap();
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).unwrap();
    serde_json::from_str(&line).expect("an answer")
}

#[test]
fn a_request_that_breaks_the_schema_is_recorded_with_its_path() {
    let socket = serve_socket(simulated_node(2));
    let answer = call_socket(
        &socket.path,
        &json!({ "jsonrpc": "2.0", "id": 1, "method": "setchannel",
                 "params": { "id": "1x1x1", "feeppm": "25", "fee_ppm": 25 } }),
    );
    assert!(answer.get("error").is_some(), "{answer}");
    let violations = std::mem::take(&mut socket.daemon.lock().unwrap().schema_violations);
    assert_eq!(
        violations,
        [
            "setchannel request: params.fee_ppm: not allowed here (additionalProperties is false)",
            "setchannel request: params.feeppm: expected u32, got \"25\"",
        ]
    );
}

#[test]
#[should_panic(
    expected = "1 message(s) on the stand-in broke CLN v26.06's schemas:\nlistforwards request: params.start: only allowed with index"
)]
fn a_schema_violation_fails_the_test() {
    let socket = serve_socket(simulated_node(2));
    call_socket(
        &socket.path,
        &json!({ "jsonrpc": "2.0", "id": 1, "method": "listforwards", "params": { "start": 1 } }),
    );
}

#[test]
fn notifications_the_stand_in_sends_are_checked() {
    let mut standin = StandIn::start(simulated_node(2), json!({}));
    standin.notify(&shapes::block_added(900_001));
    standin.notify(&shapes::forward_event_settled());
    assert!(standin.take_schema_violations().is_empty());
    let mut wrong = shapes::forward_event_settled();
    wrong["params"]["forward_event"]["in_channel"] = json!(103);
    standin.notify(&wrong);
    assert_eq!(
        standin.take_schema_violations(),
        [
            "forward_event notification: params.forward_event.in_channel: expected short_channel_id, got 103"
        ]
    );
}

/// Every status the stand-in lists conforms: `local_failed` without `out_htlc_id` and
/// `resolved_time`, `offered` without `resolved_time` (they were listed with them, from a
/// settled template).
#[test]
fn listed_forwards_of_every_status_conform() {
    let forward = |status, resolved: bool, out: bool| Forward {
        created_index: 7,
        updated_index: Some(7),
        in_channel: "103x1x0".parse().unwrap(),
        out_channel: Some("103x3x0".parse().unwrap()),
        in_amount: Msat::new(1_000_100),
        out_amount: out.then(|| Msat::new(1_000_000)),
        fee: out.then(|| Msat::new(100)),
        status,
        received_ms: 1_795_481_958_762,
        resolved_ms: resolved.then_some(1_795_481_958_900),
        failure: None,
    };
    let forwards = [
        forward(ForwardStatus::Settled, true, true),
        forward(ForwardStatus::Failed, true, true),
        forward(ForwardStatus::Offered, true, true),
        forward(ForwardStatus::LocalFailed, true, false),
    ];
    let listed = shapes::listforwards(&forwards);
    let violations = schema::check_answer("listforwards", &Ok(listed.clone()));
    assert!(violations.is_empty(), "{violations:#?}");
    let offered = &listed["forwards"][2];
    assert!(offered.get("resolved_time").is_none() && offered.get("updated_index").is_none());
    let local_failed = &listed["forwards"][3];
    assert_eq!(local_failed["failreason"], "WIRE_TEMPORARY_CHANNEL_FAILURE");
}

#[test]
fn an_answer_without_a_schema_to_check_it_is_a_violation() {
    assert_eq!(
        schema::check_answer("listhtlcs", &Ok(json!({ "htlcs": [] }))),
        [
            "listhtlcs answer: no CLN schema for listhtlcs in fixtures/cln-v26.06/schemas to check it against"
        ]
    );
    assert!(
        schema::check_answer(
            "listhtlcs",
            &Err(json!({ "code": -32601, "message": "Unknown command 'listhtlcs'" }))
        )
        .is_empty()
    );
}

/// `limit` counts the forwards lightningd lists: a page of `index=updated` is short only at the
/// end, even where `offered` forwards (which it leaves out) are interleaved. (A stand-in that
/// cut first and filtered after ended ingestion early: a payout preview saw less profit than
/// the run right after it.)
#[test]
fn a_page_of_updated_forwards_is_full_until_the_end() {
    let mut node = simulated_node(6);
    node.advance_to(revops::model::sample::SAMPLE_NOW_SECS + 24 * 3600);
    let socket = serve_socket(node);
    let page = |start: u64| -> Vec<Value> {
        let answer = call_socket(
            &socket.path,
            &json!({ "jsonrpc": "2.0", "id": 1, "method": "listforwards",
                     "params": { "index": "updated", "start": start, "limit": 5 } }),
        );
        answer["result"]["forwards"].as_array().unwrap().clone()
    };
    let (mut start, mut pages, mut paged) = (0, 0, 0);
    loop {
        let forwards = page(start);
        paged += forwards.len();
        if forwards.len() < 5 {
            break;
        }
        pages += 1;
        start = forwards.last().unwrap()["updated_index"].as_u64().unwrap() + 1;
    }
    assert!(pages >= 2, "a day of traffic fills several pages of 5");
    let all = call_socket(
        &socket.path,
        &json!({ "jsonrpc": "2.0", "id": 1, "method": "listforwards",
                 "params": { "index": "updated", "start": 0 } }),
    );
    let total = all["result"]["forwards"].as_array().unwrap().len();
    assert_eq!(paged, total, "paging reaches every listed forward");
}
