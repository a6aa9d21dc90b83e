//! The LDS Vault extension's own pytest suite (`lnbits/lds_vault/tests`), run from here so
//! that the README's one test command covers it: a locked wallet is refused on every payment
//! path with the exact message, others are unaffected, locks expire, investors cannot unlock.

use revops_tests::lnbits::{ensure_venv, repo_root};
use std::process::Command;

#[test]
fn the_lds_vault_extension_suite_passes_against_real_lnbits() {
    ensure_venv();
    let output = Command::new("bash")
        .arg(repo_root().join("lnbits/scripts/test.sh"))
        .arg("-q")
        .output()
        .expect("running lnbits/scripts/test.sh");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the LDS Vault pytest suite failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(" passed"), "pytest ran no tests:\n{stdout}");
    assert!(!stdout.contains(" failed"), "{stdout}");
}
