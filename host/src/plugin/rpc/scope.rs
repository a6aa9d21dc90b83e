//! Scopes name channels and peers the node has: a scoped setting or an assignment naming an
//! unknown one (a typo, a closed channel's neighbour) would otherwise be kept silently and never
//! apply.

use super::super::{
    errors::{CYCLE_FAILED, NOT_FOUND, rpc_error},
    state::Revops,
};
use crate::{config::Scope, node::Node};

/// Refuses `scope` unless lightningd lists a channel (in any state) with that short channel
/// id, or with that peer.
pub(super) fn require_known(
    state: &Revops,
    runtime: &tokio::runtime::Handle,
    scope: &Scope,
) -> anyhow::Result<()> {
    let node = state
        .connect(runtime)
        .map_err(|e| rpc_error(CYCLE_FAILED, e))?;
    let channels = node.channels().map_err(|e| rpc_error(CYCLE_FAILED, e))?;
    let known = match scope {
        Scope::Channel(id) => channels.iter().any(|c| c.short_channel_id == Some(*id)),
        Scope::Peer(peer) => channels
            .iter()
            .any(|c| c.peer_id.eq_ignore_ascii_case(peer)),
    };
    if known {
        return Ok(());
    }
    let what = match scope {
        Scope::Channel(id) => format!("no channel {id} on this node"),
        Scope::Peer(peer) => format!("no channel with peer {peer} on this node"),
    };
    Err(rpc_error(
        NOT_FOUND,
        format!(
            "{what} (lightningd's listpeerchannels); a scope names a channel or peer the node has"
        ),
    ))
}
