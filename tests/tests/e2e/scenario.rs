//! `revops scenario` from the outside: list, generate (stdout and file), and the generated
//! file runs in `revops simulate`.

use revops_tests::revops;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn list_shows_builtins_and_families() {
    let out = revops(&["scenario", "list"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    for name in [
        "default",
        "mixed-market",
        "small-retail",
        "routing-hub",
        "sink-heavy",
        "volatile-mempool",
        "jammed",
    ] {
        assert!(stdout.contains(name), "{name} missing:\n{stdout}");
    }
}

#[test]
fn a_generated_scenario_is_stable_and_simulates() {
    let args = ["scenario", "generate", "--family", "jammed", "--seed", "12"];
    let first = revops(&args);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert_eq!(first.stdout, revops(&args).stdout, "same family and seed");
    assert!(text(&first.stdout).contains("seed = 12"));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("retail.toml");
    let path = path.to_str().unwrap();
    let out = revops(&[
        "scenario",
        "generate",
        "--family",
        "small-retail",
        "--seed",
        "3",
        "--out",
        path,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = revops(&["simulate", "--scenario", path, "--days", "1", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["reports"][0]["scenario"], "small-retail-3");

    let out = revops(&["scenario", "generate", "--family", "atlantis"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("small-retail"),
        "{}",
        text(&out.stderr)
    );
}
