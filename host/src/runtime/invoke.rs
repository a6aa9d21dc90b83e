//! One policy call: a fresh store, the call, and a typed account of how it ended.

use super::{
    bindings::logging::Level,
    errors::CallError,
    limits::{RuntimeLimits, StoreState},
    sandbox::Sandbox,
    wasi::WasiCall,
};
use std::{
    sync::Arc,
    time::{Duration, Instant},
};
use wasmtime::{Store, Trap};

/// A successful call's value with what it cost.
#[derive(Clone, Debug)]
pub struct Called<T> {
    pub value: T,
    pub fuel_used: u64,
    pub elapsed: Duration,
}

impl<T> Called<T> {
    /// The same call's cost with another value (e.g. the converted decision).
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Called<U> {
        Called {
            value: f(self.value),
            fuel_used: self.fuel_used,
            elapsed: self.elapsed,
        }
    }
}

/// The longest policy refusal message kept (the rest is cut).
const MAX_REFUSAL_BYTES: usize = 1000;

/// Runs `call` in a fresh store under `limits` (with the call's deterministic WASI when `wasi`
/// is given: the component imports WASI). The store is dropped afterwards whatever happened, so
/// a trap can never poison a later call.
pub(crate) fn run<T>(
    sandbox: &Sandbox,
    policy: &Arc<str>,
    limits: &RuntimeLimits,
    wasi: Option<WasiCall>,
    call: impl FnOnce(&mut Store<StoreState>) -> wasmtime::Result<Result<T, String>>,
) -> Result<Called<T>, CallError> {
    let mut store = sandbox.new_store(policy.clone(), limits, wasi);
    let started = Instant::now();
    let result = call(&mut store);
    let elapsed = started.elapsed();
    let budget = limits.fuel.unwrap_or(u64::MAX);
    let fuel_used = budget - store.get_fuel().unwrap_or(0);
    forward_wasi_output(store.data_mut());
    store.data().log.finish();
    match result {
        Ok(Ok(value)) => Ok(Called {
            value,
            fuel_used,
            elapsed,
        }),
        Ok(Err(message)) => Err(CallError::Refused(truncate(message))),
        Err(error) => Err(classify(&error, store.data(), limits)),
    }
}

/// A WASI guest's stdout and stderr become policy log lines (same budget as `log`). The last
/// stderr line stands in for a panic message: it is where Python puts an uncaught exception.
fn forward_wasi_output(state: &mut StoreState) {
    let Some(wasi) = &state.wasi else {
        return;
    };
    let (stdout, stderr) = wasi.output();
    for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
        state.log.emit(Level::Info, line);
    }
    for line in stderr.lines().filter(|l| !l.trim().is_empty()) {
        state.log.emit(Level::Warn, line);
    }
    if state.log.panic_message.is_none()
        && let Some(last) = stderr.lines().rev().find(|l| !l.trim().is_empty())
    {
        state.log.panic_message = Some(format!("policy panicked: {}", last.trim()));
    }
}

fn truncate(mut message: String) -> String {
    if message.len() > MAX_REFUSAL_BYTES {
        let mut end = MAX_REFUSAL_BYTES;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
        message.push('…');
    }
    message
}

fn classify(error: &wasmtime::Error, state: &StoreState, limits: &RuntimeLimits) -> CallError {
    if state.memory_exceeded {
        return CallError::OutOfMemory(limits.memory_bytes);
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => CallError::Deadline(limits.deadline),
        Some(Trap::OutOfFuel) => CallError::FuelExhausted(limits.fuel.unwrap_or(u64::MAX)),
        Some(Trap::StackOverflow) => CallError::StackOverflow,
        Some(trap) => match &state.log.panic_message {
            Some(message) => CallError::Panicked(message.clone()),
            None => CallError::Trap(trap.to_string()),
        },
        None => CallError::Host(format!("{error:#}")),
    }
}
