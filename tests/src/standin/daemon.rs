//! The stand-in's `lightning-rpc` socket: CLN's JSON-RPC over a unix socket (JSON objects
//! separated by a blank line), answering from a simulated node, recording every call, and
//! failing or hanging on request.

use super::{
    askrene::{self, Layers},
    kill::{KillPlan, KillTarget, KillWhen, sigkill, sigkill_after},
    payments::PaymentBook,
    shapes,
};
use crate::schema;
use revops::{
    money::{Msat, Ppm},
    node::{Invoice, Node, RouteHop, RouteRequest, SetChannelFee},
    scid::ShortChannelId,
    sim::SimNetwork,
};
use serde_json::{Value, json};
use std::{
    collections::HashMap,
    io::{BufReader, Write},
    os::unix::net::{UnixListener, UnixStream},
    sync::{Arc, Mutex},
    time::Duration,
};

/// How a method misbehaves when told to.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer with this JSON-RPC error.
    Error { code: i64, message: String },
    /// Never answer (the caller's timeout must fire).
    Hang,
    /// Do what was asked, then wait this long before answering (a crash test's kill then
    /// often lands between lightningd acting and revops hearing of it).
    Slow(std::time::Duration),
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
    /// askrene layers: name → disabled node ids (askrene keeps them in lightningd's memory).
    pub layers: Layers,
    /// Payment times, holds and `sendpay` counts per hash.
    pub payments: PaymentBook,
    /// When set, the plugin is killed at that call.
    pub kill: Option<KillPlan>,
    /// The call the plugin was killed at, and how.
    pub killed: Option<(String, KillWhen)>,
    /// Every way a request, answer or notification broke CLN v26.06's schemas (see
    /// `schema`); the stand-in fails the test with them when it is dropped.
    pub schema_violations: Vec<String>,
}

impl Daemon {
    pub fn new(node: SimNetwork) -> Self {
        Self {
            node,
            calls: Vec::new(),
            faults: Default::default(),
            synthetic_forwards: None,
            layers: Default::default(),
            payments: PaymentBook::default(),
            kill: None,
            killed: None,
            schema_violations: Vec::new(),
        }
    }

    /// Kills process `pid` at the `nth` call from now (0: the next one).
    pub fn kill_at(&mut self, pid: u32, nth: usize, when: KillWhen) {
        let target = KillTarget::Call(self.calls.len() + nth);
        self.kill = Some(KillPlan { pid, target, when });
        self.killed = None;
    }

    /// Kills process `pid` at its next call of `method`.
    pub fn kill_at_method(&mut self, pid: u32, method: &str, when: KillWhen) {
        let target = KillTarget::Method(method.to_owned());
        self.kill = Some(KillPlan { pid, target, when });
        self.killed = None;
    }

    /// The kill planned for the call just recorded, if any (taken: it fires once).
    fn kill_due(&mut self, method: &str) -> Option<KillPlan> {
        let due = match &self.kill.as_ref()?.target {
            KillTarget::Call(index) => index + 1 == self.calls.len(),
            KillTarget::Method(name) => name == method,
        };
        let plan = due.then(|| self.kill.take()).flatten()?;
        self.killed = Some((method.to_owned(), plan.when));
        Some(plan)
    }

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
        let (answer, delay, kill) = {
            let mut daemon = daemon.lock().unwrap();
            daemon.calls.push((method.clone(), params.clone()));
            let problems = schema::check_request_envelope(&request);
            daemon.schema_violations.extend(problems);
            let kill = daemon.kill_due(&method);
            if let Some(KillPlan {
                pid,
                when: KillWhen::BeforeHandling,
                ..
            }) = kill
            {
                sigkill(pid);
                return;
            }
            let mut delay = None;
            let answer = match daemon.faults.get(&method).cloned() {
                Some(Fault::Hang) => continue,
                Some(Fault::Error { code, message }) => {
                    Err(json!({ "code": code, "message": message }))
                }
                Some(Fault::Slow(late)) => {
                    delay = Some(late);
                    node_call(&mut daemon, &method, &params, &mut delay)
                }
                None => match (method.as_str(), daemon.synthetic_forwards) {
                    ("listforwards", Some(total)) => {
                        Ok(synthetic_forwards(&daemon.node, &params, total))
                    }
                    (m, _) if m.starts_with("askrene-") => {
                        askrene::answer(&mut daemon.layers, m, &params)
                    }
                    _ => node_call(&mut daemon, &method, &params, &mut delay),
                },
            };
            (answer, delay, kill)
        };
        if let Some(plan) = &kill
            && plan.when == KillWhen::AfterHandling
        {
            sigkill(plan.pid);
            return;
        }
        if let Some(delay) = delay {
            std::thread::sleep(delay);
        }
        let problems = schema::check_answer(&method, &answer);
        daemon.lock().unwrap().schema_violations.extend(problems);
        let envelope = match answer {
            Ok(result) => json!({ "jsonrpc": "2.0", "id": id, "result": result }),
            Err(error) => json!({ "jsonrpc": "2.0", "id": id, "error": error }),
        };
        let mut text = serde_json::to_string(&envelope).unwrap();
        text.push_str("\n\n");
        if writer.write_all(text.as_bytes()).is_err() {
            return;
        }
        if let Some(KillPlan {
            pid,
            when: KillWhen::AfterAnswer { micros },
            ..
        }) = kill
        {
            sigkill_after(pid, micros);
        }
    }
}

/// Every other call: the simulated node's answer, with lightningd's bookkeeping around the
/// payment calls (payment times, held payments — waitsendpay then answers after its timeout —,
/// sendpay counts) and getroutes' check of its layers.
fn node_call(
    daemon: &mut Daemon,
    method: &str,
    params: &Value,
    delay: &mut Option<Duration>,
) -> Result<Value, Value> {
    let hash = params
        .get("payment_hash")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    match method {
        "getroutes" => askrene::check_getroutes_layers(&daemon.layers, params)?,
        "sendpay" => daemon.payments.counted(&hash),
        "waitsendpay" if daemon.payments.is_held(&hash) => {
            let timeout = params.get("timeout").and_then(Value::as_u64).unwrap_or(60);
            *delay = Some(Duration::from_secs(timeout.min(60)));
            return Err(shapes::waitsendpay_timeout_error());
        }
        _ => {}
    }
    let mut answer = handle(&mut daemon.node, method, params);
    let book = &mut daemon.payments;
    match (method, &mut answer) {
        ("sendpay", Ok(result)) => {
            book.sent(&hash);
            book.patch(result);
        }
        ("waitsendpay", Ok(payment)) => book.patch(payment),
        ("waitsendpay", Err(error)) => book.patch(&mut error["data"]),
        ("listsendpays", Ok(result)) => {
            for payment in result["payments"].as_array_mut().into_iter().flatten() {
                book.patch(payment);
            }
        }
        _ => {}
    }
    answer
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
            updated_index: Some(index),
            in_channel: ids[index as usize % ids.len()],
            out_channel: Some(ids[(index as usize + 1) % ids.len()]),
            in_amount: Msat::new(100_000_000 + 1_000 + index % 1000),
            out_amount: Some(Msat::new(100_000_000)),
            fee: Some(Msat::new(1_000 + index % 1000)),
            status: ForwardStatus::Settled,
            received_ms: 1_767_225_600_000 + index * 1000,
            resolved_ms: Some(1_767_225_600_000 + index * 1000 + 250),
            failure: None,
        })
        .collect();
    shapes::listforwards(&forwards)
}

/// A node error as lightningd's JSON-RPC error object.
fn node_error(error: revops::node::NodeError) -> Value {
    match error {
        revops::node::NodeError::Rpc { code, message } => {
            json!({ "code": code, "message": message })
        }
        other => json!({ "code": -1, "message": other.to_string() }),
    }
}

fn sendpay(node: &mut SimNetwork, params: &Value) -> Result<Value, Value> {
    let text = |name: &str| {
        params
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| invalid(format!("missing required parameter: {name}")))
    };
    let route: Vec<RouteHop> = params
        .get("route")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("missing required parameter: route"))?
        .iter()
        .map(|hop| {
            Some(RouteHop {
                node_id: hop.get("id")?.as_str()?.to_owned(),
                channel: hop.get("channel")?.as_str()?.parse().ok()?,
                amount: Msat::new(hop.get("amount_msat").and_then(msat_param)?),
                delay: hop.get("delay")?.as_u64()? as u32,
            })
        })
        .collect::<Option<_>>()
        .ok_or_else(|| invalid("route: each hop needs id, channel, amount_msat and delay"))?;
    let invoice = Invoice {
        payment_hash: text("payment_hash")?,
        payment_secret: text("payment_secret").unwrap_or_default(),
        bolt11: String::new(),
    };
    let amount = Msat::new(
        params
            .get("amount_msat")
            .and_then(msat_param)
            .ok_or_else(|| invalid("amount_msat: should be a millisatoshi amount"))?,
    );
    let label = text("label").unwrap_or_default();
    let payment = node
        .send_pay(&route, &invoice, amount, &label)
        .map_err(node_error)?;
    let destination = node.info().map_err(node_error)?.id;
    Ok(shapes::sendpay(&payment, &destination, &label))
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
            let start = start.unwrap_or(0);
            let limit = limit.map_or(u32::MAX, |l| u32::try_from(l).unwrap_or(u32::MAX));
            let forwards = match index {
                Some("updated") => node.forwards_updated_since(start, limit),
                // Without an index lightningd lists everything, in created order.
                Some("created") | None => node.forwards_created_since(start, limit),
                Some(other) => {
                    return Err(invalid(format!(
                        "index: should be one of created or updated: invalid token '\"{other}\"'"
                    )));
                }
            }
            .map_err(internal)?;
            Ok(shapes::listforwards(&forwards))
        }
        "listchannels" => {
            let field = |name: &str| params.get(name).and_then(Value::as_str);
            let mut listed = Vec::new();
            let mut peers = node.channels_peer_ids();
            peers.sort();
            peers.dedup();
            for peer in peers {
                if field("destination").is_none_or(|d| d == peer) {
                    listed.extend(node.gossip_channels_to(&peer).map_err(internal)?);
                }
            }
            listed.retain(|c| {
                field("source").is_none_or(|s| s == c.source)
                    && field("short_channel_id").is_none_or(|s| s == c.short_channel_id.to_string())
            });
            Ok(shapes::listchannels(&listed))
        }
        "feerates" => match params.get("style").and_then(Value::as_str) {
            Some("perkb") => Ok(shapes::feerates_perkb(
                node.opening_feerate_perkb().map_err(internal)?,
            )),
            _ => Err(invalid("style: should be 'perkw' or 'perkb'")),
        },
        "listfunds" => Ok(shapes::listfunds()),
        "bkpr-listincome" => {
            let since = params
                .get("start_time")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            match node.onchain_fees(since).map_err(internal)? {
                Some(fees) => Ok(shapes::bkpr_listincome(&fees)),
                None => Err(shapes::unknown_method_error(method)),
            }
        }
        "setchannel" => setchannel(node, params),
        "invoice" => {
            let amount = params
                .get("amount_msat")
                .and_then(msat_param)
                .ok_or_else(|| invalid("amount_msat: should be a millisatoshi amount"))?;
            let label = params
                .get("label")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid("missing required parameter: label"))?;
            let description = params
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let invoice = node
                .create_invoice(Msat::new(amount), label, description)
                .map_err(node_error)?;
            Ok(shapes::invoice(&invoice))
        }
        "getroutes" => {
            let text = |name: &str| {
                params
                    .get(name)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| invalid(format!("missing required parameter: {name}")))
            };
            let request = RouteRequest {
                source: text("source")?,
                destination: text("destination")?,
                amount: Msat::new(
                    params
                        .get("amount_msat")
                        .and_then(msat_param)
                        .ok_or_else(|| invalid("amount_msat: should be a millisatoshi amount"))?,
                ),
                max_fee: Msat::new(
                    params
                        .get("maxfee_msat")
                        .and_then(msat_param)
                        .ok_or_else(|| invalid("maxfee_msat: should be a millisatoshi amount"))?,
                ),
                layers: params
                    .get("layers")
                    .and_then(Value::as_array)
                    .map(|l| {
                        l.iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
                final_cltv: params
                    .get("final_cltv")
                    .and_then(Value::as_u64)
                    .unwrap_or(18) as u32,
            };
            let routes = node.get_routes(&request).map_err(node_error)?;
            Ok(shapes::getroutes(&routes, &request.source))
        }
        "sendpay" => sendpay(node, params),
        "waitsendpay" => {
            let hash = params
                .get("payment_hash")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid("missing required parameter: payment_hash"))?;
            let payment = node.wait_send_pay(hash, 60).map_err(node_error)?;
            shapes::waitsendpay(&payment, &node.info().map_err(internal)?.id)
        }
        "listsendpays" => {
            let hash = params
                .get("payment_hash")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let payments = node.list_send_pays(hash).map_err(node_error)?;
            Ok(shapes::listsendpays(
                &payments,
                &node.info().map_err(internal)?.id,
            ))
        }
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
