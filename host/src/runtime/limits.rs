//! The bounds every policy call runs under, and the per-call store state that enforces them.

use super::{bindings::logging, wasi::WasiState};
use std::{sync::Arc, time::Duration};
use wasmtime::ResourceLimiter;

/// Limits for one policy call. Defaults suit compiled (Rust) policies on a routing node; large
/// components (interpreted guests: Python, JavaScript) get at least `LARGE_COMPONENT_MEMORY`
/// when loaded (see `for_component`).
#[derive(Clone, Debug, PartialEq)]
pub struct RuntimeLimits {
    /// Linear memory a call may grow to.
    pub memory_bytes: usize,
    /// Wall-clock bound, enforced with epochs (granularity: one tick, 10 ms).
    pub deadline: Duration,
    /// Deterministic instruction budget; `None` = only the deadline bounds the call.
    pub fuel: Option<u64>,
    pub output: OutputLimits,
    /// Log lines a call may emit before the rest are counted and dropped.
    pub max_log_lines: u32,
    pub max_log_line_bytes: usize,
}

/// Size bounds on what a policy may return.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputLimits {
    pub max_reason_bytes: usize,
    pub max_node_state_bytes: usize,
    pub max_channel_state_bytes: usize,
    pub max_total_state_bytes: usize,
    /// Payout lines and rebalance proposals are capped at this; fee proposals at one per channel.
    pub max_proposals: usize,
}

impl Default for RuntimeLimits {
    fn default() -> Self {
        Self {
            memory_bytes: 64 << 20,
            deadline: Duration::from_millis(500),
            fuel: Some(2_000_000_000),
            output: OutputLimits::default(),
            max_log_lines: 64,
            max_log_line_bytes: 1024,
        }
    }
}

/// Components larger than this carry an interpreter (Python, JavaScript: 12–18 MB, where a Rust
/// policy is well under 1 MB) and get a memory floor of `LARGE_COMPONENT_MEMORY`.
pub const LARGE_COMPONENT_BYTES: usize = 4 << 20;
/// The memory floor of large components: CPython and SpiderMonkey heaps need hundreds of MiB.
pub const LARGE_COMPONENT_MEMORY: usize = 512 << 20;

impl RuntimeLimits {
    /// The limits a component of `size_bytes` actually runs under: unchanged for ordinary
    /// components; at least `LARGE_COMPONENT_MEMORY` of memory for large ones.
    pub fn for_component(mut self, size_bytes: usize) -> Self {
        if size_bytes > LARGE_COMPONENT_BYTES {
            self.memory_bytes = self.memory_bytes.max(LARGE_COMPONENT_MEMORY);
        }
        self
    }
}

impl Default for OutputLimits {
    fn default() -> Self {
        Self {
            max_reason_bytes: 200,
            max_node_state_bytes: 256 << 10,
            max_channel_state_bytes: 4 << 10,
            max_total_state_bytes: 8 << 20,
            max_proposals: 1000,
        }
    }
}

/// Host-side state of one call's store: the memory limiter and the policy's log.
pub(crate) struct StoreState {
    memory_limit: usize,
    pub(crate) memory_exceeded: bool,
    pub(crate) log: PolicyLog,
    /// The deterministic WASI of this call, for components that import WASI (`wasi.rs`).
    pub(crate) wasi: Option<WasiState>,
}

impl StoreState {
    pub(crate) fn new(policy: Arc<str>, limits: &RuntimeLimits) -> Self {
        Self {
            memory_limit: limits.memory_bytes,
            memory_exceeded: false,
            log: PolicyLog {
                policy,
                budget: limits.max_log_lines,
                max_line_bytes: limits.max_log_line_bytes,
                dropped: 0,
                panic_message: None,
            },
            wasi: None,
        }
    }
}

impl ResourceLimiter for StoreState {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Refuse the grow (the guest sees an allocation failure and usually traps); remember
        // why, so the host reports "out of memory" rather than a bare trap.
        if desired > self.memory_limit {
            self.memory_exceeded = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// Forwards a policy's log lines to `tracing`, rate-limited per call, and keeps a panic
/// message so it can become the call's error.
pub(crate) struct PolicyLog {
    policy: Arc<str>,
    budget: u32,
    max_line_bytes: usize,
    pub(crate) dropped: u64,
    pub(crate) panic_message: Option<String>,
}

/// The prefix `guest_support::panic_handler!` puts on a panic report.
const PANIC_PREFIX: &str = "policy panicked:";

impl PolicyLog {
    pub(crate) fn emit(&mut self, level: logging::Level, message: &str) {
        let line = truncate_at_char(message, self.max_line_bytes);
        if line.starts_with(PANIC_PREFIX) {
            self.panic_message = Some(line.to_owned());
        }
        if self.budget == 0 {
            self.dropped += 1;
            return;
        }
        self.budget -= 1;
        let policy = &*self.policy;
        // A policy's own errors (its panic report too) are warnings to the node: lightningd
        // shows `error` as BROKEN, its word for its own bugs.
        match level {
            logging::Level::Trace => {
                tracing::trace!(target: "revops::policy", policy = %policy, "{line}")
            }
            logging::Level::Debug => {
                tracing::debug!(target: "revops::policy", policy = %policy, "{line}")
            }
            logging::Level::Info => {
                tracing::info!(target: "revops::policy", policy = %policy, "{line}")
            }
            logging::Level::Warn | logging::Level::Error => {
                tracing::warn!(target: "revops::policy", policy = %policy, "{line}")
            }
        }
    }

    pub(crate) fn finish(&self) {
        if self.dropped > 0 {
            tracing::warn!(
                target: "revops::policy",
                policy = %self.policy,
                dropped = self.dropped,
                "policy log rate limit reached; further lines of this call dropped"
            );
        }
    }
}

fn truncate_at_char(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

impl logging::Host for StoreState {
    fn log(&mut self, level: logging::Level, message: String) {
        self.log.emit(level, &message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_large_components_get_more_memory() {
        let small = RuntimeLimits::default().for_component(300 << 10);
        assert_eq!(small, RuntimeLimits::default());
        let large = RuntimeLimits::default().for_component(18 << 20);
        assert_eq!(large.memory_bytes, LARGE_COMPONENT_MEMORY);
        let generous = RuntimeLimits {
            memory_bytes: 1 << 30,
            ..RuntimeLimits::default()
        };
        assert_eq!(generous.for_component(18 << 20).memory_bytes, 1 << 30);
    }

    #[test]
    fn truncation_respects_utf8() {
        assert_eq!(truncate_at_char("héllo", 2), "h");
        assert_eq!(truncate_at_char("abc", 10), "abc");
    }

    #[test]
    fn log_budget_drops_and_counts() {
        let limits = RuntimeLimits {
            max_log_lines: 2,
            ..RuntimeLimits::default()
        };
        let mut state = StoreState::new("t".into(), &limits);
        for _ in 0..5 {
            logging::Host::log(&mut state, logging::Level::Info, "x".into());
        }
        assert_eq!(state.log.dropped, 3);
    }

    #[test]
    fn panic_message_is_kept_even_when_dropped() {
        let limits = RuntimeLimits {
            max_log_lines: 0,
            ..RuntimeLimits::default()
        };
        let mut state = StoreState::new("t".into(), &limits);
        logging::Host::log(
            &mut state,
            logging::Level::Error,
            "policy panicked: boom".into(),
        );
        assert_eq!(
            state.log.panic_message.as_deref(),
            Some("policy panicked: boom")
        );
    }
}
