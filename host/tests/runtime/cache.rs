//! The precompiled-component cache: hits across sandboxes, and recovery from a bad artifact.

use super::*;
use revops::runtime::CompileSource;
use serde_json::json;

#[test]
fn second_sandbox_loads_from_cache() {
    let cache = tempfile::tempdir().unwrap();
    let first = Fixture::with_sandbox(Sandbox::new(Some(cache.path())).unwrap());
    let report = first
        .load(
            "main",
            "fee_static.wasm",
            json!({}),
            RuntimeLimits::default(),
        )
        .unwrap();
    assert_eq!(report.compile.source, CompileSource::Compiled);

    let second = Fixture::with_sandbox(Sandbox::new(Some(cache.path())).unwrap());
    let report = second
        .load(
            "main",
            "fee_static.wasm",
            json!({}),
            RuntimeLimits::default(),
        )
        .unwrap();
    assert_eq!(report.compile.source, CompileSource::Cache);
}

#[test]
fn corrupt_artifact_is_discarded_and_recompiled() {
    let cache = tempfile::tempdir().unwrap();
    let first = Fixture::with_sandbox(Sandbox::new(Some(cache.path())).unwrap());
    first
        .load(
            "main",
            "fee_static.wasm",
            json!({}),
            RuntimeLimits::default(),
        )
        .unwrap();
    let artifacts: Vec<_> = std::fs::read_dir(cache.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(artifacts.len(), 1);
    std::fs::write(&artifacts[0], b"not an artifact").unwrap();

    let second = Fixture::with_sandbox(Sandbox::new(Some(cache.path())).unwrap());
    let report = second
        .load(
            "main",
            "fee_static.wasm",
            json!({}),
            RuntimeLimits::default(),
        )
        .unwrap();
    assert_eq!(report.compile.source, CompileSource::Compiled);
    assert_ne!(std::fs::read(&artifacts[0]).unwrap(), b"not an artifact");
}
