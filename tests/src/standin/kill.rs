//! Killing the plugin (SIGKILL) at a chosen RPC call, for crash tests: the stand-in knows
//! exactly where the plugin is when it calls lightningd.

use std::{process::Command, time::Duration};

/// Where, relative to the chosen call, the plugin dies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KillWhen {
    /// The call never reaches the node.
    BeforeHandling,
    /// The node acted on the call; the plugin never hears the answer.
    AfterHandling,
    /// The plugin gets the answer and runs on for `micros` µs.
    AfterAnswer { micros: u64 },
}

/// Which call the plugin dies at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KillTarget {
    /// The call with this index in `Daemon::calls`.
    Call(usize),
    /// The next call of this method.
    Method(String),
}

#[derive(Clone, Debug)]
pub struct KillPlan {
    pub pid: u32,
    pub target: KillTarget,
    pub when: KillWhen,
}

/// SIGKILL, as `kill -9` from an operator or the OOM killer.
pub fn sigkill(pid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status();
}

/// SIGKILL after `micros` µs, from another thread.
pub fn sigkill_after(pid: u32, micros: u64) {
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_micros(micros));
        sigkill(pid);
    });
}
