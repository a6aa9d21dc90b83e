//! lightningd's JSON, built from the responses captured from CLN v26.06 (`fixtures/`): each
//! answer starts from a real one and only the values change, so field names, units and the
//! fields required by CLN's schemas are the real ones.

use revops::node::{Forward, ForwardStatus, NodeChannel, NodeInfo};
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

pub fn listforwards(forwards: &[Forward]) -> Value {
    let template = result_of(fixture!(
        "rpc/listforwards-nodeB-created-start0-limit2.json"
    ))["forwards"][0]
        .clone();
    let forwards: Vec<Value> = forwards
        .iter()
        .map(|f| {
            let mut v = template.clone();
            v["created_index"] = json!(f.created_index);
            v["updated_index"] = json!(f.updated_index);
            v["in_channel"] = json!(f.in_channel.to_string());
            v["in_msat"] = json!(f.in_amount.msat());
            v["status"] = json!(match f.status {
                ForwardStatus::Offered => "offered",
                ForwardStatus::Settled => "settled",
                ForwardStatus::Failed => "failed",
                ForwardStatus::LocalFailed => "local_failed",
            });
            v["received_time"] = json!(f.received_ms as f64 / 1000.0);
            let object = v.as_object_mut().expect("forward is an object");
            for (key, value) in [
                ("out_channel", f.out_channel.map(|c| json!(c.to_string()))),
                ("out_msat", f.out_amount.map(|a| json!(a.msat()))),
                ("fee_msat", f.fee.map(|a| json!(a.msat()))),
                (
                    "resolved_time",
                    f.resolved_ms.map(|ms| json!(ms as f64 / 1000.0)),
                ),
            ] {
                match value {
                    Some(value) => object.insert(key.to_owned(), value),
                    None => object.remove(key),
                };
            }
            v
        })
        .collect();
    json!({ "forwards": forwards })
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

pub fn unknown_method_error(method: &str) -> Value {
    let mut error = parse(fixture!("rpc/error-unknown-method.json"))["response"]["error"].clone();
    error["message"] = json!(format!("Unknown command '{method}'"));
    error
}
