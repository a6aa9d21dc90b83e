//! Test guest: a fee policy that misbehaves on request, to prove the host survives it.
//!
//! Parameter `mode` picks the misbehaviour; `after-secs` delays it until the snapshot's clock
//! reaches that time, so a test can load it cleanly (the canary passes) and have it turn
//! hostile later. Before that, and in mode `ok`, it proposes 100 ppm everywhere.
#![no_std]

extern crate alloc;

use alloc::{string::String, vec, vec::Vec};
use core::hint::black_box;
use guest_support::Params;

wit_bindgen::generate!({
    world: "fee-policy",
    path: "../../../wit",
    with: { "revops:policy/types@0.1.0": guest_support::types },
});

use guest_support::types::{FeeProposal, ParamKind, ParamSpec, ParamValue, PricingMode};
use revops::policy::logging::{Level, log};

fn log_panic(message: &str) {
    log(Level::Error, message);
}
guest_support::panic_handler!(log_panic);

const MODES: &str = "ok, loop, oom, stack, panic, error, unknown-channel, duplicate, \
                     absurd-fee, too-many, huge-reason, huge-state, log-flood";

fn honest(snapshot: &Snapshot) -> FeeDecision {
    FeeDecision {
        proposals: snapshot
            .channels
            .iter()
            .map(|c| FeeProposal {
                channel: c.id,
                fee_ppm: 100,
                fee_base_msat: 1000,
                mode: PricingMode::Normal,
                reason: String::from("hostile guest being honest"),
            })
            .collect(),
        node_state: Vec::new(),
        channel_states: Vec::new(),
    }
}

/// Recursion with no address-taken locals, so it exhausts the wasm call stack (the host's
/// `max_wasm_stack`), not the shadow stack in linear memory.
#[inline(never)]
#[allow(unconditional_recursion, reason = "the point: overflow the stack")]
fn recurse(depth: u64) -> u64 {
    let below = recurse(depth + 1);
    below ^ (below >> 3) ^ depth
}

fn misbehave(mode: &str, snapshot: &Snapshot) -> Result<FeeDecision, String> {
    let mut decision = honest(snapshot);
    match mode {
        "loop" => {
            let mut n: u64 = 0;
            loop {
                n = black_box(n.wrapping_add(1));
            }
        }
        "oom" => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(black_box(vec![1u8; 1 << 20]));
            }
        }
        "stack" => {
            black_box(recurse(black_box(0)));
        }
        "panic" => panic!("deliberate panic in the hostile guest"),
        "error" => return Err(String::from("deliberate refusal from the hostile guest")),
        "unknown-channel" => {
            if let Some(last) = decision.proposals.last_mut() {
                last.channel = 0xdead_beef;
            }
        }
        "duplicate" => {
            if let [first, .., last] = decision.proposals.as_mut_slice() {
                last.channel = first.channel;
            }
        }
        "absurd-fee" => {
            for p in &mut decision.proposals {
                p.fee_ppm = u32::MAX;
            }
        }
        "too-many" => {
            let first = decision.proposals.first().cloned();
            if let Some(first) = first {
                decision.proposals = vec![first; 100_000];
            }
        }
        "huge-reason" => {
            for p in &mut decision.proposals {
                p.reason = "x".repeat(64 * 1024);
            }
        }
        "huge-state" => decision.node_state = vec![7u8; 8 << 20],
        "log-flood" => {
            for i in 0..100_000u32 {
                log(Level::Info, if i % 2 == 0 { "flood" } else { "FLOOD" });
            }
        }
        other => {
            return Err(alloc::format!("unknown mode {other:?}; modes: {MODES}"));
        }
    }
    Ok(decision)
}

struct HostileFee;

impl Guest for HostileFee {
    fn describe() -> PolicyInfo {
        PolicyInfo {
            name: "hostile-fee".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Misbehaves on request (test guest).".into(),
            params: vec![
                ParamSpec {
                    name: "mode".into(),
                    description: MODES.into(),
                    kind: ParamKind::Text,
                    default: ParamValue::Text("ok".into()),
                    min: None,
                    max: None,
                },
                ParamSpec {
                    name: "after-secs".into(),
                    description: "Behave until the snapshot clock reaches this unix time.".into(),
                    kind: ParamKind::Integer,
                    default: ParamValue::Integer(0),
                    min: Some(0.0),
                    max: None,
                },
            ],
        }
    }

    fn propose_fees(ctx: Context, snapshot: Snapshot) -> Result<FeeDecision, String> {
        let params = Params(&ctx.params);
        let mode = params.text("mode").unwrap_or("ok");
        let after_secs = params.integer("after-secs", 0).max(0) as u64;
        if mode == "ok" || ctx.now_secs < after_secs {
            return Ok(honest(&snapshot));
        }
        misbehave(mode, &snapshot)
    }
}

export!(HostileFee);
