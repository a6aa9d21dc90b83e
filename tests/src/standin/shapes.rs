//! lightningd's JSON, built from the responses captured from CLN v26.06 (`fixtures/`): each
//! answer starts from a real one and only the values change, so field names, units and the
//! fields required by CLN's schemas are the real ones.

use revops::node::{
    Forward, ForwardStatus, FoundRoute, GossipChannel, Invoice, NodeChannel, NodeInfo, Payment,
    PaymentStatus,
};
use serde_json::{Value, json};
use std::sync::OnceLock;

macro_rules! fixture {
    ($path:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/cln-v26.06/",
            $path
        ))
    };
}

/// Shapes of plugin commands that the v26.06 capture lacks, from CLN's `doc/schemas/` examples.
macro_rules! schema_example {
    ($path:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/cln-schemas/",
            $path
        ))
    };
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).expect("fixtures are valid JSON")
}

fn result_of(text: &'static str) -> Value {
    parse(text)["response"]["result"].clone()
}

pub fn init_request() -> Value {
    parse(fixture!("plugin-protocol/03-init-request.json"))["message"].clone()
}

pub fn forward_event_settled() -> Value {
    parse(fixture!(
        "plugin-protocol/notification-forward_event-settled.json"
    ))["message"]
        .clone()
}

pub fn block_added(height: u32) -> Value {
    let mut message =
        parse(fixture!("plugin-protocol/notification-block_added.json"))["message"].clone();
    message["params"]["block_added"]["height"] = json!(height);
    message
}

pub fn shutdown() -> Value {
    parse(fixture!("plugin-protocol/notification-shutdown.json"))["message"].clone()
}

fn channel_template() -> &'static Value {
    static TEMPLATE: OnceLock<Value> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        result_of(fixture!("rpc/listpeerchannels-htlc-pending.json"))["channels"][0].clone()
    })
}

pub fn getinfo(info: &NodeInfo) -> Value {
    let mut result = result_of(fixture!("rpc/getinfo.json"));
    result["id"] = json!(info.id);
    result["alias"] = json!(info.alias);
    result["blockheight"] = json!(info.blockheight);
    result
}

pub fn listpeerchannels(channels: &[NodeChannel]) -> Value {
    let channels: Vec<Value> = channels.iter().map(peer_channel).collect();
    json!({ "channels": channels })
}

fn peer_channel(c: &NodeChannel) -> Value {
    let mut v = channel_template().clone();
    let scid = c.short_channel_id.map(|s| s.to_string());
    v["peer_id"] = json!(c.peer_id);
    v["peer_connected"] = json!(c.peer_connected);
    v["state"] = json!(c.state);
    v["short_channel_id"] = json!(scid);
    v["channel_id"] = json!(c.channel_id);
    v["opener"] = json!(match c.opener {
        revops::model::Opener::Local => "local",
        revops::model::Opener::Remote => "remote",
    });
    v["total_msat"] = json!(c.total.msat());
    v["to_us_msat"] = json!(c.to_us.msat());
    v["spendable_msat"] = json!(c.to_us.msat());
    v["receivable_msat"] = json!(c.total.msat() - c.to_us.msat());
    v["fee_base_msat"] = json!(c.fee_base.msat());
    v["fee_proportional_millionths"] = json!(c.fee_ppm.ppm());
    v["max_accepted_htlcs"] = json!(c.max_accepted_htlcs);
    let local = &mut v["updates"]["local"];
    local["fee_base_msat"] = json!(c.fee_base.msat());
    local["fee_proportional_millionths"] = json!(c.fee_ppm.ppm());
    local["htlc_minimum_msat"] = json!(c.htlc_min.msat());
    local["htlc_maximum_msat"] = json!(c.htlc_max.msat());
    match c.remote_fee {
        Some(remote) => {
            let r = &mut v["updates"]["remote"];
            r["fee_base_msat"] = json!(remote.base.msat());
            r["fee_proportional_millionths"] = json!(remote.ppm.ppm());
            r["cltv_expiry_delta"] = json!(remote.cltv_expiry_delta);
        }
        None => {
            if let Some(updates) = v["updates"].as_object_mut() {
                updates.remove("remote");
            }
        }
    }
    let htlc_template = v["htlcs"][0].clone();
    v["htlcs"] = json!(
        c.htlcs
            .iter()
            .enumerate()
            .map(|(id, h)| {
                let mut htlc = htlc_template.clone();
                htlc["direction"] = json!(if h.outgoing { "out" } else { "in" });
                htlc["id"] = json!(id);
                htlc["amount_msat"] = json!(h.amount.msat());
                htlc["state"] = json!(if h.outgoing {
                    "SENT_ADD_ACK_REVOCATION"
                } else {
                    "RCVD_ADD_ACK_REVOCATION"
                });
                htlc
            })
            .collect::<Vec<_>>()
    );
    v
}

/// A forward in the shape a real node lists it for its status (the captures of each):
/// `offered` has no `updated_index` or `resolved_time` yet; `local_failed` never left the
/// node, so it has `failcode`/`failreason` and no `out_htlc_id`, `out_msat`, `fee_msat`,
/// `resolved_time` or `updated_index`; `settled` and `failed` have everything.
fn forward_template(status: ForwardStatus) -> Value {
    static TEMPLATES: OnceLock<[Value; 4]> = OnceLock::new();
    let [settled, offered, failed, local_failed] = TEMPLATES.get_or_init(|| {
        let first = |text: &'static str| result_of(text)["forwards"][0].clone();
        [
            first(fixture!(
                "rpc/listforwards-nodeB-created-start0-limit2.json"
            )),
            first(fixture!("rpc/listforwards-nodeB-offered.json")),
            first(fixture!("rpc/listforwards-nodeB-status-failed.json")),
            first(fixture!("rpc/listforwards-nodeB-status-local_failed.json")),
        ]
    });
    match status {
        ForwardStatus::Settled => settled,
        ForwardStatus::Offered => offered,
        ForwardStatus::Failed => failed,
        ForwardStatus::LocalFailed => local_failed,
    }
    .clone()
}

pub fn listforwards(forwards: &[Forward]) -> Value {
    let forwards: Vec<Value> = forwards
        .iter()
        .map(|f| {
            let mut v = forward_template(f.status);
            v["created_index"] = json!(f.created_index);
            v["in_channel"] = json!(f.in_channel.to_string());
            v["in_msat"] = json!(f.in_amount.msat());
            v["received_time"] = json!(f.received_ms as f64 / 1000.0);
            let object = v.as_object_mut().expect("forward is an object");
            // Only the fields the status has: set from the forward, or gone when it has none.
            for (key, value) in [
                ("updated_index", Some(json!(f.updated_index))),
                ("out_channel", f.out_channel.map(|c| json!(c.to_string()))),
                ("out_msat", f.out_amount.map(|a| json!(a.msat()))),
                ("fee_msat", f.fee.map(|a| json!(a.msat()))),
                (
                    "resolved_time",
                    f.resolved_ms.map(|ms| json!(ms as f64 / 1000.0)),
                ),
            ] {
                match value {
                    Some(value) if object.contains_key(key) => {
                        object.insert(key.to_owned(), value);
                    }
                    _ => {
                        object.remove(key);
                    }
                }
            }
            if !object.contains_key("out_msat") {
                object.remove("out_htlc_id");
            }
            // The failure lightningd recorded, where the status carries one.
            if let (Some(failure), true) = (&f.failure, object.contains_key("failcode")) {
                object.insert("failcode".into(), json!(failure.code));
                object.insert("failreason".into(), json!(failure.reason));
            }
            v
        })
        .collect();
    json!({ "forwards": forwards })
}

/// `listchannels`: each gossip channel in the shape of the captured node A's listing.
pub fn listchannels(channels: &[GossipChannel]) -> Value {
    static TEMPLATE: OnceLock<Value> = OnceLock::new();
    let template = TEMPLATE.get_or_init(|| {
        result_of(fixture!("rpc/listchannels-source-A.json"))["channels"][0].clone()
    });
    let channels: Vec<Value> = channels
        .iter()
        .map(|c| {
            let mut v = template.clone();
            v["source"] = json!(c.source);
            v["destination"] = json!(c.destination);
            v["short_channel_id"] = json!(c.short_channel_id.to_string());
            // BOLT 7: direction 0 is the update of the lesser node id.
            v["direction"] = json!(u32::from(c.source > c.destination));
            v["base_fee_millisatoshi"] = json!(c.fee_base.msat());
            v["fee_per_millionth"] = json!(c.fee_ppm.ppm());
            v["active"] = json!(c.active);
            v
        })
        .collect();
    json!({ "channels": channels })
}

pub fn feerates_perkb(opening: u32) -> Value {
    let mut result = result_of(fixture!("rpc/feerates-perkb.json"));
    result["perkb"]["opening"] = json!(opening);
    result
}

pub fn listfunds() -> Value {
    result_of(fixture!("rpc/listfunds.json"))
}

pub fn setchannel(channel: &NodeChannel) -> Value {
    let mut result = result_of(fixture!("rpc/setchannel-change-fees.json"));
    let entry = &mut result["channels"][0];
    entry["peer_id"] = json!(channel.peer_id);
    entry["short_channel_id"] = json!(channel.short_channel_id.map(|s| s.to_string()));
    entry["fee_base_msat"] = json!(channel.fee_base.msat());
    entry["fee_proportional_millionths"] = json!(channel.fee_ppm.ppm());
    result
}

/// lightningd's error for a short channel id it does not know.
pub fn unknown_channel_error(scid: &str) -> Value {
    let mut error =
        parse(fixture!("rpc/error-setchannel-unknown-channel-scid.json"))["response"]["error"]
            .clone();
    error["message"] = json!(format!(
        "id: Short channel id not found: invalid token '\"{scid}\"'"
    ));
    error
}

/// `bkpr-listincome`: the node's on-chain fees by account, each followed by the wallet's
/// netting pair as the bookkeeper writes them, plus a routed credit that is not a fee.
pub fn bkpr_listincome(fees: &[revops::node::OnchainFee]) -> Value {
    let example =
        parse(schema_example!("bkpr-listincome.json"))["response"]["income_events"].clone();
    let [channel_fee, routed, wallet_debit, wallet_credit] =
        [0, 1, 2, 3].map(|i| example[i].clone());
    let mut events = Vec::new();
    for (n, fee) in fees.iter().enumerate() {
        let txid = format!("{:064x}", n + 1);
        let mut event = channel_fee.clone();
        event["account"] = json!(fee.account);
        event["debit_msat"] = json!(fee.fee_msat.max(0));
        event["credit_msat"] = json!((-fee.fee_msat).max(0));
        event["timestamp"] = json!(fee.at);
        event["txid"] = json!(txid);
        events.push(event);
        for template in [&wallet_debit, &wallet_credit] {
            let mut wallet = template.clone();
            wallet["timestamp"] = json!(fee.at);
            wallet["txid"] = json!(txid);
            events.push(wallet);
        }
    }
    events.push(routed);
    json!({ "income_events": events })
}

/// `askrene-listlayers` / `-create-layer` answers (CLN's schema: every list present, possibly
/// empty).
pub fn askrene_layers<'a>(layers: impl Iterator<Item = (&'a String, &'a Vec<String>)>) -> Value {
    let layers: Vec<Value> = layers
        .map(|(name, disabled)| {
            json!({
                "layer": name,
                "persistent": false,
                "disabled_nodes": disabled,
                "created_channels": [],
                "channel_updates": [],
                "constraints": [],
            })
        })
        .collect();
    json!({ "layers": layers })
}

pub fn unknown_method_error(method: &str) -> Value {
    let mut error = parse(fixture!("rpc/error-unknown-method.json"))["response"]["error"].clone();
    error["message"] = json!(format!("Unknown command '{method}'"));
    error
}

pub fn invoice(invoice: &Invoice) -> Value {
    let mut result = result_of(fixture!("rpc/invoice.json"));
    result["payment_hash"] = json!(invoice.payment_hash);
    result["payment_secret"] = json!(invoice.payment_secret);
    result["bolt11"] = json!(invoice.bolt11);
    result
}

pub fn getroutes(routes: &[FoundRoute], source: &str) -> Value {
    let template = result_of(fixture!("rpc/getroutes-B-to-C.json"));
    let hop_template = template["routes"][0]["path"][0].clone();
    let routes: Vec<Value> = routes
        .iter()
        .map(|route| {
            let mut node_in = source.to_owned();
            let path: Vec<Value> = route
                .hops
                .iter()
                .map(|hop| {
                    let mut v = hop_template.clone();
                    v["short_channel_id_dir"] = json!(format!("{}/{}", hop.channel, hop.direction));
                    v["node_id_in"] = json!(node_in);
                    v["node_id_out"] = json!(hop.node_out);
                    v["amount_in_msat"] = json!(hop.amount_in.msat());
                    v["amount_out_msat"] = json!(hop.amount_out.msat());
                    v["cltv_in"] = json!(hop.cltv_in);
                    v["cltv_out"] = json!(hop.cltv_out);
                    node_in = hop.node_out.clone();
                    v
                })
                .collect();
            json!({
                "probability_ppm": route.probability_ppm,
                "amount_msat": route.hops.last().map_or(0, |h| h.amount_out.msat()),
                "final_cltv": route.hops.last().map_or(0, |h| h.cltv_out),
                "path": path,
            })
        })
        .collect();
    let probability = routes
        .first()
        .map_or(json!(0), |r| r["probability_ppm"].clone());
    json!({ "probability_ppm": probability, "routes": routes })
}

fn payment_fields(mut v: Value, payment: &Payment, destination: &str) -> Value {
    v["payment_hash"] = json!(payment.payment_hash);
    v["destination"] = json!(destination);
    v["amount_msat"] = json!(payment.amount.msat());
    v["amount_sent_msat"] = json!(payment.amount_sent.msat());
    v["status"] = json!(match payment.status {
        PaymentStatus::Pending => "pending",
        PaymentStatus::Complete => "complete",
        PaymentStatus::Failed => "failed",
    });
    v
}

pub fn sendpay(payment: &Payment, destination: &str, label: &str) -> Value {
    let mut v = payment_fields(
        result_of(fixture!("rpc/sendpay-circular-success.json")),
        payment,
        destination,
    );
    v["label"] = json!(label);
    v
}

/// `waitsendpay` on a payment still in flight when its `timeout` ran out.
pub fn waitsendpay_timeout_error() -> Value {
    parse(fixture!("rpc/error-waitsendpay-timeout.json"))["response"]["error"].clone()
}

/// `waitsendpay`'s answer: the payment, or for a failure lightningd's error carrying it.
pub fn waitsendpay(payment: &Payment, destination: &str) -> Result<Value, Value> {
    match payment.status {
        PaymentStatus::Failed => {
            let mut error = parse(fixture!("rpc/waitsendpay-circular-fail-first-hop.json"))["response"]["error"].clone();
            error["message"] = json!(format!(
                "failed: {}",
                payment.failure.clone().unwrap_or_default()
            ));
            error["data"] = payment_fields(error["data"].clone(), payment, destination);
            error["data"]["erring_channel"] = json!(payment.erring_channel.map(|c| c.to_string()));
            Err(error)
        }
        _ => Ok(payment_fields(
            result_of(fixture!("rpc/waitsendpay-circular-success.json")),
            payment,
            destination,
        )),
    }
}

pub fn listsendpays(payments: &[Payment], destination: &str) -> Value {
    let template = result_of(fixture!("rpc/listsendpays.json"))["payments"][0].clone();
    let payments: Vec<Value> = payments
        .iter()
        .map(|p| {
            let mut v = payment_fields(template.clone(), p, destination);
            if p.status != PaymentStatus::Complete
                && let Some(object) = v.as_object_mut()
            {
                object.remove("payment_preimage");
            }
            v
        })
        .collect();
    json!({ "payments": payments })
}
