//! `Node` over lightningd's `lightning-rpc` socket with cln-rpc's typed requests.
//!
//! The decision cycle is synchronous and runs on a blocking worker thread; each call here
//! blocks that thread on the async client, with a timeout. lightningd's errors keep their code
//! and message.

use super::{
    Forward, ForwardStatus, Funds, Node, NodeChannel, NodeError, NodeHtlc, NodeInfo, STATE_NORMAL,
    SetChannelFee,
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
            FeeratesRequest, FeeratesStyle, GetinfoRequest, ListforwardsIndex, ListforwardsRequest,
            ListfundsRequest, ListpeerchannelsRequest, SetchannelRequest,
        },
        responses::{
            ListforwardsForwards, ListforwardsForwardsStatus, ListpeerchannelsChannels,
            ListpeerchannelsChannelsHtlcsDirection,
        },
    },
    primitives::{Amount, ChannelSide, ChannelState},
};
use serde::{Serialize, de::DeserializeOwned};
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
        let mut rpc = self.rpc.lock().unwrap_or_else(|p| p.into_inner());
        self.runtime.block_on(async {
            match tokio::time::timeout(self.timeout, rpc.call_typed(request)).await {
                Ok(result) => result.map_err(|e| rpc_error(method, e)),
                Err(_) => Err(NodeError::Timeout {
                    method,
                    secs: self.timeout.as_secs(),
                }),
            }
        })
    }
}

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
    }
}

fn seconds_to_ms(seconds: f64) -> u64 {
    (seconds * 1000.0).round().max(0.0) as u64
}

fn forward(f: ListforwardsForwards) -> Forward {
    Forward {
        created_index: f.created_index,
        updated_index: f.updated_index.unwrap_or(f.created_index),
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

    fn forwards_updated_since(&self, start: u64, limit: u32) -> Result<Vec<Forward>, NodeError> {
        let request = ListforwardsRequest {
            in_channel: None,
            out_channel: None,
            status: None,
            index: Some(ListforwardsIndex::UPDATED),
            start: Some(start),
            limit: Some(limit),
        };
        let response = self.call("listforwards", &request)?;
        Ok(response.forwards.into_iter().map(forward).collect())
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
}
