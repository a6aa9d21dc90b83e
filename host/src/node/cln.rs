//! `Node` over lightningd's `lightning-rpc` socket with cln-rpc's typed requests.
//!
//! The decision cycle is synchronous and runs on a blocking worker thread; each call here
//! blocks that thread on the async client, with a timeout. lightningd's errors keep their code
//! and message.

use super::{
    Forward, ForwardFailure, ForwardStatus, FoundRoute, Funds, GossipChannel, Invoice, Node,
    NodeChannel, NodeError, NodeHtlc, NodeInfo, OnchainFee, Payment, PaymentStatus, RemoteFee,
    RouteHop, RouteRequest, STATE_NORMAL, SetChannelFee,
    cln_json::{as_json, parse_payment, parse_routes, text_field, typed_request},
};
use crate::{
    model::Opener,
    money::{Msat, Ppm},
    scid::ShortChannelId,
};
use cln_rpc::{
    ClnRpc, RpcError, TypedRequest,
    model::{
        requests::{
            AskrenecreatelayerRequest, AskrenedisablenodeRequest, AskrenelistlayersRequest,
            BkprlistincomeRequest, FeeratesRequest, FeeratesStyle, GetinfoRequest,
            GetroutesRequest, InvoiceRequest, ListchannelsRequest, ListforwardsIndex,
            ListforwardsRequest, ListfundsRequest, ListpeerchannelsRequest, ListsendpaysRequest,
            SendpayRequest, SetchannelRequest, WaitsendpayRequest,
        },
        responses::{
            ListforwardsForwards, ListforwardsForwardsStatus, ListpeerchannelsChannels,
            ListpeerchannelsChannelsHtlcsDirection,
        },
    },
    primitives::{Amount, ChannelSide, ChannelState},
};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Value, json};
use std::{
    fmt::Debug,
    path::{Path, PathBuf},
    sync::Mutex,
    time::{Duration, SystemTime, UNIX_EPOCH},
};
use tokio::runtime::Handle;

pub struct ClnNode {
    runtime: Handle,
    rpc: Mutex<ClnRpc>,
    socket: PathBuf,
    timeout: Duration,
}

impl ClnNode {
    /// Connects to `socket`. Call from async code; use the node from a blocking thread.
    pub async fn connect(socket: &Path, timeout: Duration) -> Result<Self, NodeError> {
        let rpc = tokio::time::timeout(timeout, ClnRpc::new(socket))
            .await
            .map_err(|_| NodeError::Timeout {
                method: "connect",
                secs: timeout.as_secs(),
            })?
            .map_err(|e| NodeError::Transport(format!("{}: {e:#}", socket.display())))?;
        Ok(Self {
            runtime: Handle::current(),
            rpc: Mutex::new(rpc),
            socket: socket.to_owned(),
            timeout,
        })
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    fn call<R>(&self, method: &'static str, request: &R) -> Result<R::Response, NodeError>
    where
        R: TypedRequest + Serialize + Debug,
        R::Response: DeserializeOwned + Debug,
    {
        self.call_keeping_error(method, request, self.timeout)?
            .map_err(|e| rpc_error(method, e))
    }

    /// Like `call`, but hands lightningd's error back whole (its `data` matters for payments);
    /// only a timeout is an `Err` here.
    fn call_keeping_error<R>(
        &self,
        method: &'static str,
        request: &R,
        timeout: Duration,
    ) -> Result<Result<R::Response, RpcError>, NodeError>
    where
        R: TypedRequest + Serialize + Debug,
        R::Response: DeserializeOwned + Debug,
    {
        let mut rpc = self.rpc.lock().unwrap_or_else(|p| p.into_inner());
        self.runtime.block_on(async {
            tokio::time::timeout(timeout, rpc.call_typed(request))
                .await
                .map_err(|_| NodeError::Timeout {
                    method,
                    secs: timeout.as_secs(),
                })
        })
    }

    fn forwards_by(
        &self,
        index: ListforwardsIndex,
        start: u64,
        limit: u32,
    ) -> Result<Vec<Forward>, NodeError> {
        let request = ListforwardsRequest {
            in_channel: None,
            out_channel: None,
            status: None,
            index: Some(index),
            start: Some(start),
            limit: Some(limit),
        };
        let response = self.call("listforwards", &request)?;
        Ok(response.forwards.into_iter().map(forward).collect())
    }
}

/// JSON-RPC's "invalid params": askrene's answer to a layer name it does not know.
const INVALID_PARAMS: i32 = -32602;

/// askrene's "Unknown layer" (`layer: Unknown layer: invalid token …` in developer mode,
/// `… invalid token (see logs for details)` otherwise).
fn is_unknown_layer(error: &RpcError) -> bool {
    error.code == Some(INVALID_PARAMS) && error.message.contains("Unknown layer")
}

/// JSON-RPC's "method not found": lightningd's answer when no plugin provides a command.
const METHOD_NOT_FOUND: i32 = -32601;

fn rpc_error(method: &'static str, error: RpcError) -> NodeError {
    match error.code {
        Some(code) => NodeError::Rpc {
            code: i64::from(code),
            message: error.message,
        },
        // cln-rpc reports transport and parse failures without a code.
        None if error.message.starts_with("Failed to parse") => NodeError::Protocol {
            method,
            detail: error.message,
        },
        None => NodeError::Transport(error.message),
    }
}

fn msat(amount: Option<Amount>) -> Msat {
    Msat::new(amount.map_or(0, |a| a.msat()))
}

fn scid(id: cln_rpc::primitives::ShortChannelId) -> ShortChannelId {
    ShortChannelId::from_u64(
        u64::from(id.block()) << 40 | u64::from(id.txindex()) << 16 | u64::from(id.outnum()),
    )
}

fn channel(c: ListpeerchannelsChannels) -> NodeChannel {
    let local = c.updates.as_ref().map(|u| &u.local);
    let state = if c.state == ChannelState::CHANNELD_NORMAL {
        STATE_NORMAL.to_owned()
    } else {
        format!("{:?}", c.state)
    };
    NodeChannel {
        peer_id: c.peer_id.to_string(),
        peer_connected: c.peer_connected,
        state,
        short_channel_id: c.short_channel_id.map(scid),
        opener: match c.opener {
            ChannelSide::LOCAL => Opener::Local,
            ChannelSide::REMOTE => Opener::Remote,
        },
        total: msat(c.total_msat),
        to_us: msat(c.to_us_msat),
        fee_base: local.map_or_else(
            || msat(c.fee_base_msat),
            |l| Msat::new(l.fee_base_msat.msat()),
        ),
        fee_ppm: Ppm::new(
            local.map_or(c.fee_proportional_millionths.unwrap_or(0), |l| {
                l.fee_proportional_millionths
            }),
        ),
        htlc_min: local.map_or(Msat::ZERO, |l| Msat::new(l.htlc_minimum_msat.msat())),
        htlc_max: local.map_or(Msat::ZERO, |l| Msat::new(l.htlc_maximum_msat.msat())),
        max_accepted_htlcs: c
            .max_accepted_htlcs
            .map_or(483, |m| u16::try_from(m).unwrap_or(u16::MAX)),
        htlcs: c
            .htlcs
            .unwrap_or_default()
            .into_iter()
            .map(|h| NodeHtlc {
                outgoing: h.direction == ListpeerchannelsChannelsHtlcsDirection::OUT,
                amount: Msat::new(h.amount_msat.msat()),
            })
            .collect(),
        funding_height: c.short_channel_id.map(|id| id.block()),
        remote_fee: c
            .updates
            .as_ref()
            .and_then(|u| u.remote.as_ref())
            .map(|r| RemoteFee {
                base: Msat::new(r.fee_base_msat.msat()),
                ppm: Ppm::new(r.fee_proportional_millionths),
                cltv_expiry_delta: r.cltv_expiry_delta,
            }),
        channel_id: c.channel_id.map(|id| id.to_string()),
    }
}

fn seconds_to_ms(seconds: f64) -> u64 {
    (seconds * 1000.0).round().max(0.0) as u64
}

fn forward(f: ListforwardsForwards) -> Forward {
    Forward {
        created_index: f.created_index,
        updated_index: f.updated_index,
        in_channel: scid(f.in_channel),
        out_channel: f.out_channel.map(scid),
        in_amount: Msat::new(f.in_msat.msat()),
        out_amount: f.out_msat.map(|a| Msat::new(a.msat())),
        fee: f.fee_msat.map(|a| Msat::new(a.msat())),
        status: match f.status {
            ListforwardsForwardsStatus::OFFERED => ForwardStatus::Offered,
            ListforwardsForwardsStatus::SETTLED => ForwardStatus::Settled,
            ListforwardsForwardsStatus::LOCAL_FAILED => ForwardStatus::LocalFailed,
            ListforwardsForwardsStatus::FAILED => ForwardStatus::Failed,
        },
        received_ms: seconds_to_ms(f.received_time),
        resolved_ms: f.resolved_time.map(seconds_to_ms),
        failure: f.failcode.map(|code| ForwardFailure {
            code,
            reason: f.failreason.unwrap_or_default(),
        }),
    }
}

impl Node for ClnNode {
    fn info(&self) -> Result<NodeInfo, NodeError> {
        let info = self.call("getinfo", &GetinfoRequest {})?;
        Ok(NodeInfo {
            id: info.id.to_string(),
            alias: info.alias,
            blockheight: info.blockheight,
        })
    }

    fn channels(&self) -> Result<Vec<NodeChannel>, NodeError> {
        let request = ListpeerchannelsRequest {
            id: None,
            short_channel_id: None,
            channel_id: None,
        };
        let response = self.call("listpeerchannels", &request)?;
        Ok(response.channels.into_iter().map(channel).collect())
    }

    fn forwards_created_since(&self, start: u64, limit: u32) -> Result<Vec<Forward>, NodeError> {
        self.forwards_by(ListforwardsIndex::CREATED, start, limit)
    }

    fn forwards_updated_since(&self, start: u64, limit: u32) -> Result<Vec<Forward>, NodeError> {
        self.forwards_by(ListforwardsIndex::UPDATED, start, limit)
    }

    fn gossip_channels_to(&self, node: &str) -> Result<Vec<GossipChannel>, NodeError> {
        let destination = node.parse().map_err(|_| NodeError::Protocol {
            method: "listchannels",
            detail: format!("not a node id: {node}"),
        })?;
        let request = ListchannelsRequest {
            destination: Some(destination),
            short_channel_id: None,
            source: None,
        };
        let response = self.call("listchannels", &request)?;
        Ok(response
            .channels
            .into_iter()
            .map(|c| GossipChannel {
                source: c.source.to_string(),
                destination: c.destination.to_string(),
                short_channel_id: scid(c.short_channel_id),
                fee_base: Msat::new(u64::from(c.base_fee_millisatoshi)),
                fee_ppm: Ppm::new(c.fee_per_millionth),
                active: c.active,
            })
            .collect())
    }

    fn opening_feerate_perkb(&self) -> Result<u32, NodeError> {
        let response = self.call(
            "feerates",
            &FeeratesRequest {
                style: FeeratesStyle::PERKB,
            },
        )?;
        response
            .perkb
            .and_then(|p| p.opening)
            .ok_or_else(|| NodeError::Protocol {
                method: "feerates",
                detail: "no perkb.opening estimate (is bitcoind still syncing?)".into(),
            })
    }

    fn funds(&self) -> Result<Funds, NodeError> {
        let response = self.call("listfunds", &ListfundsRequest { spent: None })?;
        let onchain = response
            .outputs
            .iter()
            .filter(|o| format!("{:?}", o.status) == "CONFIRMED")
            .map(|o| o.amount_msat.msat())
            .sum();
        let channels = response
            .channels
            .iter()
            .filter(|c| c.state == ChannelState::CHANNELD_NORMAL)
            .map(|c| c.our_amount_msat.msat())
            .sum();
        Ok(Funds {
            onchain_confirmed: Msat::new(onchain),
            channels_local: Msat::new(channels),
        })
    }

    fn onchain_fees(&self, since: u64) -> Result<Option<Vec<OnchainFee>>, NodeError> {
        let request = BkprlistincomeRequest {
            consolidate_fees: Some(true),
            start_time: Some(u32::try_from(since).unwrap_or(u32::MAX)),
            end_time: None,
        };
        let answer = self.call_keeping_error("bkpr-listincome", &request, self.timeout)?;
        let response = match answer {
            Ok(response) => response,
            // The bookkeeper plugin is not loaded (or disabled): nothing is known.
            Err(error) if error.code == Some(METHOD_NOT_FOUND) => return Ok(None),
            Err(error) => return Err(rpc_error("bkpr-listincome", error)),
        };
        Ok(Some(
            response
                .income_events
                .into_iter()
                .filter(|e| e.tag == "onchain_fee")
                .map(|e| OnchainFee {
                    account: e.account,
                    fee_msat: i64::try_from(e.debit_msat.msat()).unwrap_or(i64::MAX)
                        - i64::try_from(e.credit_msat.msat()).unwrap_or(i64::MAX),
                    at: u64::from(e.timestamp),
                })
                .collect(),
        ))
    }

    fn set_channel_fee(&mut self, request: &SetChannelFee) -> Result<(), NodeError> {
        let request = SetchannelRequest {
            id: request.channel.to_string(),
            feebase: Some(Amount::from_msat(request.fee_base.msat())),
            feeppm: Some(request.fee_ppm.ppm()),
            htlcmin: None,
            htlcmax: None,
            enforcedelay: None,
            ignorefeelimits: None,
        };
        self.call("setchannel", &request).map(drop)
    }

    fn now_secs(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }

    fn create_invoice(
        &mut self,
        amount: Msat,
        label: &str,
        description: &str,
    ) -> Result<Invoice, NodeError> {
        let request: InvoiceRequest = typed_request(
            "invoice",
            json!({ "amount_msat": msat_text(amount), "label": label, "description": description }),
        )?;
        let response = as_json("invoice", &self.call("invoice", &request)?)?;
        Ok(Invoice {
            payment_hash: text_field("invoice", &response, "payment_hash")?,
            payment_secret: text_field("invoice", &response, "payment_secret")?,
            bolt11: text_field("invoice", &response, "bolt11")?,
        })
    }

    fn exclude_node_in_layer(&self, layer: &str, node_id: &str) -> Result<(), NodeError> {
        let request = AskrenelistlayersRequest {
            layer: Some(layer.to_owned()),
        };
        // askrene answers a layer it does not know with an error, not an empty list.
        let existing =
            match self.call_keeping_error("askrene-listlayers", &request, self.timeout)? {
                Ok(listed) => listed.layers.into_iter().find(|l| l.layer == layer),
                Err(error) if is_unknown_layer(&error) => None,
                Err(error) => return Err(rpc_error("askrene-listlayers", error)),
            };
        if existing.is_none() {
            // Not persistent: lightningd forgets it at restart and revops makes it again.
            self.call(
                "askrene-create-layer",
                &AskrenecreatelayerRequest {
                    layer: layer.to_owned(),
                    persistent: Some(false),
                },
            )?;
        }
        let disabled =
            existing.is_some_and(|l| l.disabled_nodes.iter().any(|n| n.to_string() == node_id));
        if !disabled {
            let node = node_id.parse().map_err(|e| NodeError::Protocol {
                method: "askrene-disable-node",
                detail: format!("our node id {node_id:?}: {e}"),
            })?;
            self.call(
                "askrene-disable-node",
                &AskrenedisablenodeRequest {
                    layer: layer.to_owned(),
                    node,
                },
            )?;
        }
        Ok(())
    }

    fn get_routes(&self, route: &RouteRequest) -> Result<Vec<FoundRoute>, NodeError> {
        let request: GetroutesRequest = typed_request(
            "getroutes",
            json!({
                "source": route.source,
                "destination": route.destination,
                "amount_msat": msat_text(route.amount),
                "maxfee_msat": msat_text(route.max_fee),
                "layers": route.layers,
                "final_cltv": route.final_cltv,
            }),
        )?;
        let response = as_json("getroutes", &self.call("getroutes", &request)?)?;
        parse_routes(&response)
    }

    fn send_pay(
        &mut self,
        route: &[RouteHop],
        invoice: &Invoice,
        amount: Msat,
        label: &str,
    ) -> Result<Payment, NodeError> {
        let hops: Vec<Value> = route
            .iter()
            .map(|hop| {
                json!({
                    "id": hop.node_id,
                    "channel": hop.channel.to_string(),
                    "amount_msat": msat_text(hop.amount),
                    "delay": hop.delay,
                })
            })
            .collect();
        let request: SendpayRequest = typed_request(
            "sendpay",
            json!({
                "route": hops,
                "payment_hash": invoice.payment_hash,
                "payment_secret": invoice.payment_secret,
                "amount_msat": msat_text(amount),
                "label": label,
            }),
        )?;
        let response = as_json("sendpay", &self.call("sendpay", &request)?)?;
        parse_payment("sendpay", &response)
    }

    fn wait_send_pay(
        &mut self,
        payment_hash: &str,
        timeout_secs: u32,
    ) -> Result<Payment, NodeError> {
        let request: WaitsendpayRequest = typed_request(
            "waitsendpay",
            json!({ "payment_hash": payment_hash, "timeout": timeout_secs }),
        )?;
        // lightningd answers within `timeout_secs`; give the socket a little longer.
        let patience = Duration::from_secs(u64::from(timeout_secs)) + self.timeout;
        match self.call_keeping_error("waitsendpay", &request, patience)? {
            Ok(response) => parse_payment("waitsendpay", &as_json("waitsendpay", &response)?),
            Err(error) => match (error.code, &error.data) {
                // "Timed out while waiting": still in flight.
                (Some(WAITSENDPAY_TIMEOUT), _) => self
                    .list_send_pays(payment_hash)?
                    .pop()
                    .ok_or_else(|| rpc_error("waitsendpay", error)),
                // A failed payment comes back as an error carrying the payment.
                (Some(_), Some(data)) if data.get("status").is_some() => {
                    let mut payment = parse_payment("waitsendpay", data)?;
                    payment.status = PaymentStatus::Failed;
                    payment.failure = Some(error.message);
                    Ok(payment)
                }
                _ => Err(rpc_error("waitsendpay", error)),
            },
        }
    }

    fn list_send_pays(&self, payment_hash: &str) -> Result<Vec<Payment>, NodeError> {
        let request: ListsendpaysRequest =
            typed_request("listsendpays", json!({ "payment_hash": payment_hash }))?;
        let response = as_json("listsendpays", &self.call("listsendpays", &request)?)?;
        response["payments"]
            .as_array()
            .map(|payments| {
                payments
                    .iter()
                    .map(|p| parse_payment("listsendpays", p))
                    .collect()
            })
            .unwrap_or_else(|| Ok(Vec::new()))
    }
}

/// An amount as cln-rpc's typed model reads it from JSON ("123msat").
fn msat_text(amount: Msat) -> String {
    format!("{}msat", amount.msat())
}

/// `waitsendpay`'s "Timed out while waiting" (PAY_IN_PROGRESS in CLN's `common/jsonrpc_errors.h`).
const WAITSENDPAY_TIMEOUT: i32 = 200;
