//! RPC fuzzing soak (ignored by default): generated calls to every `revenue-*` method of the
//! manifest through the stand-in lightningd, checking after each that an answer came (the
//! stand-in's per-call timeout), the plugin is alive, and an error has an integer code and a
//! short message. Prints figures at the end.
//!
//! `REVOPS_FUZZ_CALLS=100000 REVOPS_FUZZ_SEED=1 cargo test --release -p revops-tests --test e2e
//! rpc_fuzz -- --ignored --nocapture`

mod inputs;

use inputs::Inputs;
use revops_tests::standin::{StandIn, simulated_node};
use serde_json::{Value, json};
use std::{
    collections::BTreeMap,
    panic::{AssertUnwindSafe, catch_unwind, resume_unwind},
    time::{Duration, Instant},
};

/// Longest error message accepted: revops cuts every message to 600 characters, the marker of a
/// cut (`… (N bytes in all)`) included.
const MAX_MESSAGE_CHARS: usize = 600;
/// Methods that run cycles or I/O: a smaller share of the calls so that the soak stays quick.
const SLOW: [&str; 3] = [
    "revenue-run",
    "revenue-rebalance-run",
    "revenue-lds-snapshot",
];

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name}: not a number: {v}"))
        })
        .unwrap_or(default)
}

/// (method, parameter names from its usage `kind name path [params]`).
fn revenue_methods(manifest: &Value) -> Vec<(String, Vec<String>)> {
    manifest["rpcmethods"]
        .as_array()
        .expect("rpcmethods")
        .iter()
        .filter_map(|m| {
            let name = m["name"].as_str()?;
            name.starts_with("revenue-").then(|| {
                let usage = m["usage"].as_str().unwrap_or_default();
                let params = usage
                    .split_whitespace()
                    .map(|p| p.trim_matches(|c| c == '[' || c == ']').to_owned())
                    .collect();
                (name.to_owned(), params)
            })
        })
        .collect()
}

/// What one call was, for a failure report (cut to 2,000 characters).
fn describe(text: &[u8]) -> String {
    let text = String::from_utf8_lossy(text);
    match text.char_indices().nth(2_000) {
        Some((cut, _)) => format!("{}… ({} bytes)", &text[..cut], text.len()),
        None => text.into_owned(),
    }
}

#[derive(Default)]
struct Figures {
    calls: BTreeMap<String, u64>,
    errors: BTreeMap<i64, u64>,
    ok: u64,
    raw: u64,
    /// Texts without an id to answer, sent before a call.
    unanswerable: u64,
    max_message: usize,
    /// Time spent answering, per method, and the slowest call.
    time: BTreeMap<String, Duration>,
    slowest: (Duration, String),
}

impl Figures {
    /// Checks one answer and counts it; the message of a broken rule.
    fn record(
        &mut self,
        method: &str,
        took: Duration,
        answer: &Result<Value, Value>,
    ) -> Result<(), String> {
        *self.calls.entry(method.to_owned()).or_default() += 1;
        *self.time.entry(method.to_owned()).or_default() += took;
        if took > self.slowest.0 {
            self.slowest = (took, method.to_owned());
        }
        let error = match answer {
            Ok(_) => {
                self.ok += 1;
                return Ok(());
            }
            Err(error) => error,
        };
        let code = error["code"]
            .as_i64()
            .ok_or_else(|| format!("an error without an integer code: {error}"))?;
        let message = error["message"]
            .as_str()
            .ok_or_else(|| format!("an error without a message: {error}"))?;
        let length = message.chars().count();
        *self.errors.entry(code).or_default() += 1;
        self.max_message = self.max_message.max(length);
        if length > MAX_MESSAGE_CHARS {
            return Err(format!(
                "a {length}-character error message: {}",
                describe(message.as_bytes())
            ));
        }
        Ok(())
    }

    fn print(&self, total: u64, seconds: f64) {
        println!(
            "rpc fuzz: {total} calls in {seconds:.1} s ({:.0}/s), 0 plugin exits, 0 hangs",
            total as f64 / seconds
        );
        println!(
            "  answered with a result: {}, raw malformed texts: {}, texts without an id: {}",
            self.ok, self.raw, self.unanswerable
        );
        println!("  longest error message: {} characters", self.max_message);
        println!("  slowest call: {:?} ({})", self.slowest.0, self.slowest.1);
        println!("  calls per method (mean time per call):");
        for (method, count) in &self.calls {
            let mean = self.time[method] / (*count as u32);
            println!("    {method:28} {count:>7} {mean:>12.1?}");
        }
        println!("  errors by code:");
        for (code, count) in &self.errors {
            println!("    {code:>8} {count}");
        }
    }
}

#[test]
#[ignore = "a soak of 100,000 calls; run with --ignored (see README)"]
fn rpc_fuzz() {
    let total = env_u64("REVOPS_FUZZ_CALLS", 100_000);
    let seed = env_u64("REVOPS_FUZZ_SEED", 1);
    // Dry run: a fee or rebalance cycle the fuzzer starts changes nothing on the node.
    let mut standin = StandIn::start(simulated_node(6), json!({ "revenue-dry-run": true }));
    let methods = revenue_methods(&standin.manifest);
    assert!(methods.len() >= 20, "{methods:?}");
    let mut inputs = Inputs::new(seed);
    let mut figures = Figures::default();
    let started = Instant::now();
    for n in 0..total {
        let (method, names) = loop {
            let (method, names) = &methods[inputs.below(methods.len() as u64) as usize];
            // The slow ones get a tenth of an ordinary method's share.
            if !SLOW.contains(&method.as_str()) || inputs.below(10) == 0 {
                break (method.clone(), names.clone());
            }
        };
        if inputs.below(200) == 0 {
            // Nothing to answer; the next call's answer shows the plugin still serves.
            let text = inputs.unanswerable(&method);
            standin.send_unanswerable(&text);
            figures.unanswerable += 1;
        }
        let raw = inputs.below(50) == 0;
        let id = format!("fuzz:{method}#{n}");
        let text = if raw {
            inputs.raw(&id, &method)
        } else {
            let params = inputs.params(&names);
            serde_json::to_vec(
                &json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }),
            )
            .expect("serializes")
        };
        let sent = Instant::now();
        let answer = catch_unwind(AssertUnwindSafe(|| standin.request_raw(&id, &text)));
        let took = sent.elapsed();
        let answer = match answer {
            Ok(answer) => answer,
            Err(panic) => {
                eprintln!("call {n} (seed {seed}) got no answer: {}", describe(&text));
                resume_unwind(panic);
            }
        };
        figures.raw += u64::from(raw);
        if let Err(broken) = figures.record(&method, took, &answer) {
            panic!(
                "call {n} (seed {seed}): {broken}\nrequest: {}",
                describe(&text)
            );
        }
        if (n + 1) % 10_000 == 0 {
            println!(
                "rpc fuzz: {} calls, {:.0} s",
                n + 1,
                started.elapsed().as_secs_f64()
            );
        }
        assert!(
            standin.alive(),
            "revops exited after call {n} (seed {seed}): {}\nlogs:\n{}",
            describe(&text),
            standin.logs().join("\n")
        );
    }
    figures.print(total, started.elapsed().as_secs_f64());
}
