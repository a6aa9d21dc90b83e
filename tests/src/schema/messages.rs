//! The stand-in's checks on whole messages: a request on `lightning-rpc`, the answer to it,
//! a notification to the plugin. Each problem becomes one line naming the method and the
//! path, e.g. `setchannel request: feeppm: expected u32, got "25"`.

use super::{Violation, check_error, cln};
use serde_json::Value;

fn lines(what: &str, violations: Vec<Violation>) -> Vec<String> {
    violations
        .into_iter()
        .map(|v| format!("{what}: {v}"))
        .collect()
}

/// A JSON-RPC request from the plugin: the envelope, and its params against the method's
/// request schema when the corpus has one.
pub fn check_request_envelope(request: &Value) -> Vec<String> {
    let method = request["method"].as_str().unwrap_or("?");
    let what = format!("{method} request");
    let mut found = Vec::new();
    let mut report = |path: &str, problem: &str| {
        found.push(Violation {
            path: path.to_owned(),
            problem: problem.to_owned(),
        })
    };
    if request["jsonrpc"] != "2.0" {
        report("jsonrpc", "expected \"2.0\"");
    }
    if !(request["id"].is_string() || request["id"].is_u64() || request["id"].is_i64()) {
        report("id", "expected a string or an integer");
    }
    if !request["method"].is_string() {
        report("method", "expected a string");
    }
    // No params at all is taken as no parameters.
    let params = request
        .get("params")
        .cloned()
        .unwrap_or(Value::Object(Default::default()));
    if let Some(violations) = cln().check_request(method, &params) {
        found.extend(violations.into_iter().map(|mut v| {
            v.path = if v.path.is_empty() {
                "params".to_owned()
            } else {
                format!("params.{}", v.path)
            };
            v
        }));
    }
    lines(&what, found)
}

/// The stand-in's answer to `method`: a result against the response schema (a method the
/// stand-in serves without a schema in the corpus is itself a problem: nothing checks it),
/// an error as lightningd's error object.
pub fn check_answer(method: &str, answer: &Result<Value, Value>) -> Vec<String> {
    match answer {
        Ok(result) => match cln().check_response(method, result) {
            Some(violations) => lines(&format!("{method} answer"), violations),
            None => vec![format!(
                "{method} answer: no CLN schema for {method} in fixtures/cln-v26.06/schemas to check it against"
            )],
        },
        Err(error) => lines(&format!("{method} error"), check_error(error)),
    }
}

/// A notification the stand-in sends to the plugin.
pub fn check_notification_message(message: &Value) -> Vec<String> {
    let topic = message["method"].as_str().unwrap_or("?");
    lines(
        &format!("{topic} notification"),
        cln().check_notification(message),
    )
}
