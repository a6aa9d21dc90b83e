//! Reading lightningd's payment answers (`invoice`, `getroutes`, `sendpay`, `waitsendpay`,
//! `listsendpays`) into host types, and building typed requests from lightningd's own
//! parameter names.

use super::{FoundHop, FoundRoute, NodeError, Payment, PaymentStatus};
use crate::{money::Msat, scid::ShortChannelId};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;

/// Builds a cln-rpc typed request from lightningd's own parameter names, so the typed model
/// checks every value (hashes, keys, amounts) before it is sent.
pub(super) fn typed_request<R: DeserializeOwned>(
    method: &'static str,
    params: Value,
) -> Result<R, NodeError> {
    serde_json::from_value(params).map_err(|e| NodeError::Protocol {
        method,
        detail: format!("invalid request: {e}"),
    })
}

pub(super) fn as_json<T: Serialize>(
    method: &'static str,
    response: &T,
) -> Result<Value, NodeError> {
    serde_json::to_value(response).map_err(|e| NodeError::Protocol {
        method,
        detail: e.to_string(),
    })
}

pub(super) fn text_field(
    method: &'static str,
    value: &Value,
    field: &str,
) -> Result<String, NodeError> {
    value[field]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| NodeError::Protocol {
            method,
            detail: format!("no {field}"),
        })
}

/// Amounts as lightningd writes them: a number of msat (older clients: "123msat").
fn msat_field(value: &Value, field: &str) -> Option<Msat> {
    match &value[field] {
        Value::Number(n) => n.as_u64().map(Msat::new),
        Value::String(s) => s
            .strip_suffix("msat")
            .and_then(|n| n.parse().ok())
            .map(Msat::new),
        _ => None,
    }
}

fn scid_field(value: &Value, field: &str) -> Option<ShortChannelId> {
    let text = value[field].as_str()?;
    text.split('/').next()?.parse().ok()
}

pub(super) fn parse_payment(method: &'static str, value: &Value) -> Result<Payment, NodeError> {
    let status = match value["status"].as_str() {
        Some("pending") => PaymentStatus::Pending,
        Some("complete") => PaymentStatus::Complete,
        Some("failed") => PaymentStatus::Failed,
        other => {
            return Err(NodeError::Protocol {
                method,
                detail: format!("payment status {other:?}"),
            });
        }
    };
    Ok(Payment {
        payment_hash: text_field(method, value, "payment_hash")?,
        status,
        amount: msat_field(value, "amount_msat").unwrap_or(Msat::ZERO),
        amount_sent: msat_field(value, "amount_sent_msat").unwrap_or(Msat::ZERO),
        failure: None,
        erring_channel: scid_field(value, "erring_channel"),
        created_at: value["created_at"].as_u64(),
    })
}

pub(super) fn parse_routes(value: &Value) -> Result<Vec<FoundRoute>, NodeError> {
    let protocol = |detail: String| NodeError::Protocol {
        method: "getroutes",
        detail,
    };
    let routes = value["routes"]
        .as_array()
        .ok_or_else(|| protocol("no routes".into()))?;
    routes
        .iter()
        .map(|route| {
            let hops = route["path"]
                .as_array()
                .ok_or_else(|| protocol("route without path".into()))?
                .iter()
                .map(|hop| {
                    let dir = hop["short_channel_id_dir"].as_str().unwrap_or_default();
                    let (channel, direction) = dir
                        .split_once('/')
                        .and_then(|(c, d)| Some((c.parse().ok()?, d.parse().ok()?)))
                        .ok_or_else(|| protocol(format!("bad short_channel_id_dir {dir:?}")))?;
                    Ok(FoundHop {
                        channel,
                        direction,
                        node_out: text_field("getroutes", hop, "node_id_out")?,
                        amount_in: msat_field(hop, "amount_in_msat").unwrap_or(Msat::ZERO),
                        amount_out: msat_field(hop, "amount_out_msat").unwrap_or(Msat::ZERO),
                        cltv_in: hop["cltv_in"].as_u64().unwrap_or(0) as u32,
                        cltv_out: hop["cltv_out"].as_u64().unwrap_or(0) as u32,
                    })
                })
                .collect::<Result<Vec<_>, NodeError>>()?;
            Ok(FoundRoute {
                probability_ppm: route["probability_ppm"].as_u64().unwrap_or(0),
                hops,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn payments_and_routes_parse_from_lightningd_shapes() {
        let payment = parse_payment(
            "waitsendpay",
            &json!({"payment_hash": "ab", "status": "complete", "amount_msat": 50000000, "amount_sent_msat": 50001002, "created_at": 1795481946}),
        )
        .unwrap();
        assert_eq!(payment.fee(), Msat::new(1002));
        assert_eq!(payment.created_at, Some(1_795_481_946));
        assert!(parse_payment("x", &json!({"payment_hash": "ab", "status": "odd"})).is_err());
        let routes = parse_routes(&json!({"routes": [{"probability_ppm": 990000, "path": [{
            "short_channel_id_dir": "103x3x0/0", "node_id_out": "03aa", "amount_in_msat": 100001001,
            "amount_out_msat": 100000000, "cltv_in": 24, "cltv_out": 18}]}]}))
        .unwrap();
        assert_eq!(routes[0].hops[0].channel.to_string(), "103x3x0");
        assert_eq!(routes[0].hops[0].amount_in, Msat::new(100001001));
        assert!(
            parse_routes(&json!({"routes": [{"path": [{"short_channel_id_dir": "bad"}]}]}))
                .is_err()
        );
    }
}
