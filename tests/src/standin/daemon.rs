//! The stand-in's `lightning-rpc` socket: CLN's JSON-RPC over a unix socket (JSON objects
//! separated by a blank line), answering from a simulated node, recording every call, and
//! failing or hanging on request.

use super::shapes;
use revops::{
    money::{Msat, Ppm},
    node::{Node, SetChannelFee},
    scid::ShortChannelId,
    sim::SimNetwork,
};
use serde_json::{Value, json};
use std::{
    collections::HashMap,
    io::{BufReader, Write},
    os::unix::net::{UnixListener, UnixStream},
    sync::{Arc, Mutex},
};

/// How a method misbehaves when told to.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer with this JSON-RPC error.
    Error { code: i64, message: String },
    /// Never answer (the caller's timeout must fire).
    Hang,
}

/// What sits behind the socket.
pub struct Daemon {
    pub node: SimNetwork,
    /// Every call the plugin made, in order: (method, params).
    pub calls: Vec<(String, Value)>,
    pub faults: HashMap<String, Fault>,
    /// When set, `listforwards` serves this many made-up settled forwards instead of the
    /// simulated node's (for the ingestion benchmark).
    pub synthetic_forwards: Option<u64>,
}

impl Daemon {
    pub fn calls_of(&self, method: &str) -> Vec<Value> {
        self.calls
            .iter()
            .filter(|(m, _)| m == method)
            .map(|(_, p)| p.clone())
            .collect()
    }
}

/// Serves `listener` on background threads, one per connection.
pub fn serve(listener: UnixListener, daemon: Arc<Mutex<Daemon>>) {
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let daemon = daemon.clone();
            std::thread::spawn(move || connection(stream, daemon));
        }
    });
}

fn connection(stream: UnixStream, daemon: Arc<Mutex<Daemon>>) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let requests =
        serde_json::Deserializer::from_reader(BufReader::new(stream)).into_iter::<Value>();
    for request in requests {
        let Ok(request) = request else { return };
        let id = request.get("id").cloned().unwrap_or(Value::Null);
        let method = request["method"].as_str().unwrap_or_default().to_owned();
        let params = request.get("params").cloned().unwrap_or(json!({}));
        let answer = {
            let mut daemon = daemon.lock().unwrap();
            daemon.calls.push((method.clone(), params.clone()));
            match daemon.faults.get(&method).cloned() {
                Some(Fault::Hang) => continue,
                Some(Fault::Error { code, message }) => {
                    Err(json!({ "code": code, "message": message }))
                }
                None => match (method.as_str(), daemon.synthetic_forwards) {
                    ("listforwards", Some(total)) => {
                        Ok(synthetic_forwards(&daemon.node, &params, total))
                    }
                    _ => handle(&mut daemon.node, &method, &params),
                },
            }
        };
        let envelope = match answer {
            Ok(result) => json!({ "jsonrpc": "2.0", "id": id, "result": result }),
            Err(error) => json!({ "jsonrpc": "2.0", "id": id, "error": error }),
        };
        let mut text = serde_json::to_string(&envelope).unwrap();
        text.push_str("\n\n");
        if writer.write_all(text.as_bytes()).is_err() {
            return;
        }
    }
}

fn synthetic_forwards(node: &SimNetwork, params: &Value, total: u64) -> Value {
    use revops::{
        money::Msat,
        node::{Forward, ForwardStatus},
    };
    let ids = node.channel_ids();
    let start = params
        .get("start")
        .and_then(Value::as_u64)
        .unwrap_or(0)
        .max(1);
    let limit = params
        .get("limit")
        .and_then(Value::as_u64)
        .unwrap_or(u64::MAX);
    let end = total.min(start.saturating_add(limit).saturating_sub(1));
    let forwards: Vec<Forward> = (start..=end)
        .map(|index| Forward {
            created_index: index,
            updated_index: index,
            in_channel: ids[index as usize % ids.len()],
            out_channel: Some(ids[(index as usize + 1) % ids.len()]),
            in_amount: Msat::new(100_000_000 + 1_000 + index % 1000),
            out_amount: Some(Msat::new(100_000_000)),
            fee: Some(Msat::new(1_000 + index % 1000)),
            status: ForwardStatus::Settled,
            received_ms: 1_767_225_600_000 + index * 1000,
            resolved_ms: Some(1_767_225_600_000 + index * 1000 + 250),
        })
        .collect();
    shapes::listforwards(&forwards)
}

fn invalid(message: impl Into<String>) -> Value {
    json!({ "code": -32602, "message": message.into() })
}

fn handle(node: &mut SimNetwork, method: &str, params: &Value) -> Result<Value, Value> {
    let internal = |e: revops::node::NodeError| json!({ "code": -1, "message": e.to_string() });
    match method {
        "getinfo" => Ok(shapes::getinfo(&node.info().map_err(internal)?)),
        "listpeerchannels" => Ok(shapes::listpeerchannels(
            &node.channels().map_err(internal)?,
        )),
        "listforwards" => {
            let index = params.get("index").and_then(Value::as_str);
            let start = params.get("start").and_then(Value::as_u64);
            let limit = params.get("limit").and_then(Value::as_u64);
            if index.is_none() && (start.is_some() || limit.is_some()) {
                return Err(invalid("Can only specify start and limit with index"));
            }
            if index.is_some_and(|i| i != "updated") {
                return Err(invalid("this stand-in serves index=updated only"));
            }
            let forwards = node
                .forwards_updated_since(start.unwrap_or(0), limit.map_or(u32::MAX, |l| l as u32))
                .map_err(internal)?;
            Ok(shapes::listforwards(&forwards))
        }
        "feerates" => match params.get("style").and_then(Value::as_str) {
            Some("perkb") => Ok(shapes::feerates_perkb(
                node.opening_feerate_perkb().map_err(internal)?,
            )),
            _ => Err(invalid("style: should be 'perkw' or 'perkb'")),
        },
        "listfunds" => Ok(shapes::listfunds()),
        "setchannel" => setchannel(node, params),
        other => Err(shapes::unknown_method_error(other)),
    }
}

/// An amount as lightningd's `param_msat` takes it: a number of msat, or a string with a
/// `msat`, `sat` or `btc` suffix ("1000msat", "1sat").
fn msat_param(value: &Value) -> Option<u64> {
    if let Some(n) = value.as_u64() {
        return Some(n);
    }
    let text = value.as_str()?;
    if let Some(n) = text.strip_suffix("msat") {
        return n.parse().ok();
    }
    if let Some(n) = text.strip_suffix("sat") {
        return n.parse::<u64>().ok()?.checked_mul(1000);
    }
    text.parse().ok()
}

fn setchannel(node: &mut SimNetwork, params: &Value) -> Result<Value, Value> {
    let id = params
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("missing required parameter: id"))?;
    let channel: ShortChannelId = id.parse().map_err(|_| shapes::unknown_channel_error(id))?;
    let feeppm = params
        .get("feeppm")
        .map(|v| {
            v.as_u64().ok_or_else(|| {
                invalid(format!("feeppm: should be an integer: invalid token '{v}'"))
            })
        })
        .transpose()?;
    let feebase = params
        .get("feebase")
        .map(|v| {
            msat_param(v).ok_or_else(|| {
                invalid(format!(
                    "feebase: should be a millisatoshi amount: invalid token '{v}'"
                ))
            })
        })
        .transpose()?;
    let current = node
        .channels()
        .unwrap()
        .into_iter()
        .find(|c| c.short_channel_id == Some(channel))
        .ok_or_else(|| shapes::unknown_channel_error(id))?;
    let request = SetChannelFee {
        channel,
        fee_base: feebase.map_or(current.fee_base, Msat::new),
        fee_ppm: feeppm.map_or(current.fee_ppm, |p| Ppm::new(p as u32)),
    };
    node.set_channel_fee(&request)
        .map_err(|e| json!({ "code": -32602, "message": e.to_string() }))?;
    let updated = node
        .channels()
        .unwrap()
        .into_iter()
        .find(|c| c.short_channel_id == Some(channel))
        .expect("still there");
    Ok(shapes::setchannel(&updated))
}
