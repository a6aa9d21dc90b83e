use super::*;
use serde_json::json;

fn fixture(path: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/cln-v26.06")
        .join(path);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn result_of(path: &str) -> Value {
    fixture(path)["response"]["result"].clone()
}

fn texts(violations: Option<Vec<Violation>>) -> Vec<String> {
    violations
        .expect("the method has a schema")
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn response(method: &str, result: &Value) -> Vec<String> {
    texts(cln().check_response(method, result))
}

fn request(method: &str, params: Value) -> Vec<String> {
    texts(cln().check_request(method, &params))
}

/// Every capture of a method with a schema: a successful call's params and result conform,
/// an error is a JSON-RPC error. (Requests that failed are left out: several are wrong on
/// purpose, e.g. `error-invalid-param-type.json`.)
#[test]
fn every_captured_call_conforms() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/cln-v26.06/rpc");
    let mut checked = 0;
    for path in json_files(&dir).unwrap() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let capture = fixture(&format!("rpc/{name}"));
        let method = capture["method"].as_str().unwrap();
        if !cln().has_method(method) {
            continue;
        }
        let answer = &capture["response"];
        let found: Vec<String> = match answer.get("error") {
            Some(error) => check_error(error).iter().map(ToString::to_string).collect(),
            None => {
                let mut found = request(method, capture["params"].clone());
                found.extend(response(method, &answer["result"]));
                found
            }
        };
        assert!(found.is_empty(), "{name}: {found:#?}");
        checked += 1;
    }
    assert!(checked >= 60, "only {checked} captures checked");
}

#[test]
fn every_captured_notification_conforms() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/cln-v26.06/plugin-protocol");
    let mut checked = 0;
    for path in json_files(&dir).unwrap() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("notification-") {
            continue;
        }
        let capture = fixture(&format!("plugin-protocol/{name}"));
        let messages = match capture.get("messages") {
            Some(all) => all.as_array().unwrap().clone(),
            None => vec![capture["message"].clone()],
        };
        for message in messages {
            let topic = message["method"].as_str().unwrap();
            assert!(
                cln().has_notification(topic),
                "{name}: no schema for {topic}"
            );
            let found = cln().check_notification(&message);
            assert!(found.is_empty(), "{name}: {found:#?}");
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} notifications checked");
}

fn pending_channels() -> Value {
    result_of("rpc/listpeerchannels-htlc-pending.json")
}

#[test]
fn a_wrong_type_is_named_with_its_path() {
    let mut result = pending_channels();
    result["channels"][0]["fee_proportional_millionths"] = json!(-10);
    assert_eq!(
        response("listpeerchannels", &result),
        ["channels[0].fee_proportional_millionths: expected u32, got -10"]
    );
    let mut result = pending_channels();
    result["channels"][0]["to_us_msat"] = json!("1000msat");
    assert_eq!(
        response("listpeerchannels", &result),
        ["channels[0].to_us_msat: expected msat, got \"1000msat\""]
    );
}

#[test]
fn a_missing_required_field_is_named() {
    let mut result = pending_channels();
    result["channels"][0]
        .as_object_mut()
        .unwrap()
        .remove("peer_id");
    assert_eq!(
        response("listpeerchannels", &result),
        ["channels[0].peer_id: required, missing"]
    );
}

#[test]
fn a_value_outside_the_enum_is_named() {
    let mut result = pending_channels();
    result["channels"][0]["state"] = json!("NORMAL");
    let found = response("listpeerchannels", &result);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("channels[0].state: \"NORMAL\" is not one of \"OPENINGD\""),
        "{found:?}"
    );
}

#[test]
fn an_extra_property_is_refused_where_additional_properties_is_false() {
    let mut result = pending_channels();
    result["next_page"] = json!(2);
    assert_eq!(
        response("listpeerchannels", &result),
        ["next_page: not allowed here (additionalProperties is false)"]
    );
    // A channel allows more fields at its own level (additionalProperties: true), but each
    // `if` branch that applies (here: it has a short_channel_id) lists what it allows.
    let mut result = pending_channels();
    result["channels"][0]["future_field"] = json!(1);
    assert_eq!(
        response("listpeerchannels", &result),
        ["channels[0].future_field: not allowed here (additionalProperties is false)"]
    );
}

#[test]
fn if_then_else_branches_apply() {
    let settled = result_of("rpc/listforwards-nodeB.json")["forwards"][0].clone();
    assert_eq!(settled["status"], "settled");
    let mut forward = settled.clone();
    forward.as_object_mut().unwrap().remove("resolved_time");
    assert_eq!(
        response("listforwards", &json!({ "forwards": [forward] })),
        ["forwards[0].resolved_time: required, missing"]
    );
    // With out_msat, fee_msat is required; and only the branch's listed fields may appear.
    let mut forward = settled.clone();
    forward.as_object_mut().unwrap().remove("fee_msat");
    forward["payment_hash"] = json!("00".repeat(32));
    assert_eq!(
        response("listforwards", &json!({ "forwards": [forward] })),
        [
            "forwards[0].fee_msat: required, missing",
            "forwards[0].payment_hash: not allowed here (additionalProperties is false)",
        ]
    );
    // An offered forward needs no resolved_time.
    let mut offered = settled;
    offered["status"] = json!("offered");
    offered.as_object_mut().unwrap().remove("resolved_time");
    assert!(response("listforwards", &json!({ "forwards": [offered] })).is_empty());
}

#[test]
fn requests_are_checked_as_lightningd_takes_parameters() {
    assert!(
        request(
            "setchannel",
            json!({ "id": "103x1x0", "feebase": "1000msat", "feeppm": 25 })
        )
        .is_empty()
    );
    assert_eq!(
        request("setchannel", json!({ "id": "103x1x0", "feeppm": "25" })),
        ["feeppm: expected u32, got \"25\""]
    );
    assert_eq!(
        request("setchannel", json!({ "feeppm": 25, "fee_ppm": 25 })),
        [
            "id: required, missing",
            "fee_ppm: not allowed here (additionalProperties is false)"
        ]
    );
    assert_eq!(
        request("listforwards", json!({ "start": 3, "limit": 2 })),
        [
            "start: only allowed with index",
            "limit: only allowed with index"
        ]
    );
    assert_eq!(
        request("listforwards", json!({ "index": "deleted" })),
        ["index: \"deleted\" is not one of \"created\", \"updated\""]
    );
    assert_eq!(
        request(
            "waitsendpay",
            json!({ "payment_hash": "00".repeat(32), "partid": 1 })
        ),
        ["(top level): partid and groupid go together"]
    );
    // oneOfMany: at most one (a real `plugin list` gives neither).
    assert!(request("plugin", json!({ "subcommand": "list" })).is_empty());
    assert_eq!(
        request(
            "plugin",
            json!({ "subcommand": "start", "plugin": "a", "directory": "b" })
        ),
        ["(top level): at most one of plugin, directory may be given"]
    );
    assert_eq!(
        request("listfunds", json!([false])),
        ["(top level): positional params: only keyword params are checked"]
    );
    assert_eq!(
        request("pay", json!({ "bolt11": "lnbcrt1" })),
        ["(top level): the method is deprecated (v26.06 → v27.03)"]
    );
}

#[test]
fn a_notification_is_checked_inside_its_envelope() {
    let settled =
        fixture("plugin-protocol/notification-forward_event-settled.json")["message"].clone();
    assert!(cln().check_notification(&settled).is_empty());
    let mut bad = settled.clone();
    bad["params"]["forward_event"]["in_channel"] = json!("103:1:0");
    let found: Vec<String> = cln()
        .check_notification(&bad)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        found,
        ["params.forward_event.in_channel: expected short_channel_id, got \"103:1:0\""]
    );
    let unwrapped = json!({ "jsonrpc": "2.0", "method": "forward_event", "params": settled["params"]["forward_event"] });
    let found: Vec<String> = cln()
        .check_notification(&unwrapped)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        found,
        ["params: expected exactly one key, \"forward_event\", holding the payload"]
    );
}

#[test]
fn errors_have_an_integer_code_and_a_string_message() {
    assert!(check_error(&json!({ "code": -32602, "message": "x", "data": {} })).is_empty());
    let found: Vec<String> = check_error(&json!({ "code": "-1", "msg": "x" }))
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        found,
        [
            "code: expected an integer",
            "message: expected a string",
            "msg: not part of a JSON-RPC error"
        ]
    );
}

#[test]
fn a_keyword_the_validator_does_not_know_fails_the_load() {
    let error = Schema::compile(&json!({ "type": "string", "pattern": "^a" }), "x").unwrap_err();
    assert_eq!(error, "x: unsupported keyword pattern");
    let error = Schema::compile(&json!({ "type": "signature" }), "x").unwrap_err();
    assert_eq!(error, "x.type: unknown type signature");
}
