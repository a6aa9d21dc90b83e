//! Typed failures of loading and calling policies. A policy's failure is never the host's:
//! every variant here is something the host reports and survives.

use crate::{model::ParamError, model::PolicyKind, scid::ShortChannelId};
use std::{path::PathBuf, time::Duration};

/// Why a policy call produced no usable decision.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum CallError {
    #[error("policy ran past its deadline of {0:?}")]
    Deadline(Duration),
    #[error("policy used its whole fuel budget of {0} units")]
    FuelExhausted(u64),
    #[error("policy exceeded its memory limit of {0} bytes")]
    OutOfMemory(usize),
    #[error("policy overflowed its stack")]
    StackOverflow,
    #[error("{0}")]
    Panicked(String),
    #[error("policy trapped: {0}")]
    Trap(String),
    #[error("policy refused to decide: {0}")]
    Refused(String),
    #[error("policy output rejected: {0}")]
    InvalidOutput(#[from] OutputError),
    #[error("policy is quarantined and no last-known-good version exists; holding (no changes)")]
    Held,
    #[error("no {kind} policy named {name:?} is loaded")]
    NotLoaded { kind: PolicyKind, name: String },
    #[error("policy runtime failure: {0}")]
    Host(String),
}

impl CallError {
    /// Failures that say the policy itself is broken (and count towards quarantine), as
    /// opposed to the host asking for something impossible.
    pub fn is_policy_fault(&self) -> bool {
        !matches!(self, CallError::Held | CallError::NotLoaded { .. })
    }
}

/// What is wrong with a decision a policy returned.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum OutputError {
    #[error("proposal for unknown channel {0}")]
    UnknownChannel(ShortChannelId),
    #[error("more than one proposal for channel {0}")]
    DuplicateChannel(ShortChannelId),
    #[error("{field} = {value} is out of range for channel {channel} (allowed: {allowed})")]
    OutOfRange {
        channel: ShortChannelId,
        field: &'static str,
        value: u64,
        allowed: &'static str,
    },
    #[error("{what}: {count} entries, at most {max} allowed")]
    TooMany {
        what: &'static str,
        count: usize,
        max: usize,
    },
    #[error("{what}: {bytes} bytes, at most {max} allowed")]
    TooLarge {
        what: &'static str,
        bytes: usize,
        max: usize,
    },
    #[error("{0}")]
    Inconsistent(String),
}

/// Why a policy could not be loaded. The previously active policy keeps serving.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: outside the policy directory {dir}; policies load only from there")]
    OutsidePolicyDir { path: PathBuf, dir: PathBuf },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {bytes} bytes is larger than the {max}-byte limit for a policy")]
    TooBig { path: PathBuf, bytes: u64, max: u64 },
    #[error("not a WebAssembly component: {0}")]
    NotAComponent(String),
    #[error("no shipped {kind} policy named {name:?} (see `revops policy shipped`)")]
    UnknownEmbedded { kind: PolicyKind, name: String },
    #[error(
        "component imports {import:?}, which revops does not grant; policies may import only revops:policy/logging, revops:policy/types and capability-free WASI (wasi:io, wasi:clocks, wasi:random, wasi:cli, wasi:filesystem, wasi:sockets; served deterministically, without files, network or environment) (build Rust policies no_std: see the policy guide)"
    )]
    ForbiddenImport { import: String },
    #[error("component is a {found}, not a {expected} ({detail})")]
    WrongWorld {
        expected: &'static str,
        found: String,
        detail: String,
    },
    #[error("describe() failed: {0}")]
    Describe(CallError),
    #[error("{0}")]
    Params(#[from] ParamError),
    #[error("canary call failed, policy not activated: {0}")]
    Canary(CallError),
    #[error("precompiled cache: {0}")]
    Cache(String),
    #[error("no {kind} policy named {name:?} is loaded")]
    NotLoaded { kind: PolicyKind, name: String },
    #[error("no last-known-good {kind} policy to roll back to for {name:?}")]
    NothingToRollBack { kind: PolicyKind, name: String },
}
