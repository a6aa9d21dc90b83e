//! The unit tests of the guest SDK and the shipped policies (`policies/`, its own workspace),
//! run natively from here so that the README's one test command covers them.

use revops_tests::lnbits::repo_root;
use std::process::Command;

#[test]
fn the_guest_sdk_and_shipped_policies_pass_their_unit_tests() {
    let root = repo_root();
    let output = Command::new(env!("CARGO"))
        .current_dir(root.join("policies"))
        .args(["test-native", "--locked", "--quiet"])
        .env("CARGO_TARGET_DIR", root.join("target/policies-native"))
        // The host's flags and wrapper are not the guests'.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .output()
        .expect("running cargo test-native in policies/");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "policies/ unit tests failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let passed: usize = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("test result: ok. "))
        .filter_map(|l| l.split_whitespace().next()?.parse::<usize>().ok())
        .sum();
    assert!(
        passed >= 40,
        "expected the SDK and policy tests, ran {passed}:\n{stdout}"
    );
}
