//! JSON-RPC errors of revops' methods. cln-plugin sends an error whose text is a JSON object
//! `{code, message}` as that error (anything else becomes -32700), so every handler error is
//! built here, with a code from the table in the README.

use serde_json::json;
use std::fmt::Display;

/// Malformed or missing parameters (JSON-RPC's own code, as lightningd uses it).
pub const INVALID_PARAMS: i64 = -32602;
/// A policy could not be loaded; the previous one keeps serving.
pub const POLICY_LOAD_FAILED: i64 = 1601;
/// No such policy, slot, channel or key.
pub const NOT_FOUND: i64 = 1602;
/// A configuration change was refused; nothing changed.
pub const CONFIG_REFUSED: i64 = 1603;
/// A cycle could not run: lightningd or the database failed.
pub const CYCLE_FAILED: i64 = 1604;
/// Not available in this version.
pub const UNSUPPORTED: i64 = 1605;
/// revops is shutting down.
pub const SHUTTING_DOWN: i64 = 1606;
/// An internal failure (database, worker thread).
pub const INTERNAL: i64 = 1607;
/// LNbits could not be reached or refused; nothing was paid.
pub const LNBITS_FAILED: i64 = 1608;
/// A payout was halted by the solvency check (the check is recorded).
pub const PAYOUT_HALTED: i64 = 1609;

/// Error messages never grow past this many characters, whatever input they quote.
const MAX_MESSAGE_CHARS: usize = 600;

pub fn rpc_error(code: i64, message: impl Display) -> anyhow::Error {
    let message = crate::text::shorten(&message.to_string(), MAX_MESSAGE_CHARS);
    anyhow::anyhow!(json!({ "code": code, "message": message }).to_string())
}

pub fn invalid_params(message: impl Display) -> anyhow::Error {
    rpc_error(INVALID_PARAMS, message)
}

pub fn internal(message: impl Display) -> anyhow::Error {
    rpc_error(INTERNAL, message)
}
