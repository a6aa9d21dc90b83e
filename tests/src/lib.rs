//! End-to-end harness: runs the real `revops` binary as an operator (or lightningd) would.
//!
//! Everything here reaches revops from the outside — its command line now, the plugin
//! protocol and the `lightning-rpc` socket of a stand-in lightningd later.

pub mod standin;

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

/// The `revops` binary of this build (`target/<profile>/revops`), built on demand if a test
/// runs before cargo has built it.
pub fn revops_binary() -> PathBuf {
    let test_exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> → target/<profile>/revops
    let profile_dir = test_exe
        .parent()
        .and_then(Path::parent)
        .expect("test runs from target/<profile>/deps");
    let binary = profile_dir.join("revops");
    if !binary.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "revops", "--bin", "revops"])
            .status()
            .expect("running cargo build");
        assert!(status.success(), "building the revops binary failed");
    }
    binary
}

/// Runs `revops ARGS…` to completion.
pub fn revops(args: &[&str]) -> Output {
    Command::new(revops_binary())
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("starting revops")
}

/// A guest component built from `policies/` (e.g. `hostile_fee.wasm`).
pub fn built_guest(file: &str) -> PathBuf {
    Path::new(revops::embedded::BUILT_POLICIES_DIR).join(file)
}
