//! End-to-end harness: runs the real `revops` binary as an operator (or lightningd) would.
//!
//! Everything here reaches revops from the outside — its command line now, the plugin
//! protocol and the `lightning-rpc` socket of a stand-in lightningd later.

pub mod lnbits;
pub mod schema;
pub mod standin;

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::Once,
};

/// The `revops` binary of this build (`target/<profile>/revops`). Built (or brought up to
/// date) once per test process: `cargo test -p revops-tests` alone would otherwise run a
/// stale binary, since this crate depends on revops' library, not its binary.
pub fn revops_binary() -> PathBuf {
    static BUILT: Once = Once::new();
    let test_exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> → target/<profile>/revops
    let profile_dir = test_exe
        .parent()
        .and_then(Path::parent)
        .expect("test runs from target/<profile>/deps");
    BUILT.call_once(|| {
        let mut build = Command::new(env!("CARGO"));
        build.args(["build", "--quiet", "-p", "revops", "--bin", "revops"]);
        if profile_dir.ends_with("release") {
            build.arg("--release");
        }
        let status = build.status().expect("running cargo build");
        assert!(status.success(), "building the revops binary failed");
    });
    profile_dir.join("revops")
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
