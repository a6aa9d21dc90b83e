//! Builds the policies workspace (`policies/`) for wasm32-wasip2 so that the shipped policies
//! can be embedded in the binary and the test guests are available to tests. No built `.wasm`
//! is committed: a fresh clone gets them from here.

use std::{
    env, fs,
    path::{Path, PathBuf},
    process::Command,
};

const TARGET: &str = "wasm32-wasip2";

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest_dir
        .parent()
        .expect("host/ sits in the repository root");
    // REVOPS_POLICIES_SRC builds the guests from another checkout of `policies/` (with its
    // `wit/` beside it), e.g. a known-good copy while the working tree's is being edited.
    println!("cargo:rerun-if-env-changed=REVOPS_POLICIES_SRC");
    let policies = env::var_os("REVOPS_POLICIES_SRC")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("policies"));
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    // Shared by every profile of the host so the guests are built once, not per profile. Guests
    // from another checkout get their own directory: the same crate names from two source trees
    // in one target directory can leave the embedded guests stale.
    let target_dir = root
        .join("target")
        .join(if env::var_os("REVOPS_POLICIES_SRC").is_some() {
            "policies-external"
        } else {
            "policies"
        });

    println!("cargo:rerun-if-changed={}", policies.display());
    println!(
        "cargo:rerun-if-changed={}",
        policies.parent().unwrap_or(root).join("wit").display()
    );

    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(&policies)
        .args(["build", "--release", "--locked", "--target", TARGET])
        .arg("--target-dir")
        .arg(&target_dir)
        // The host's flags, target and lint wrapper are not the guests'.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .status()
        .expect("running cargo to build policies/");
    if !status.success() {
        panic!(
            "building policies/ for {TARGET} failed (see above). \
             If the target is missing: rustup target add {TARGET}"
        );
    }

    let built = target_dir.join(TARGET).join("release");
    let copied = copy_components(&built, &out_dir);
    assert!(copied > 0, "no .wasm found in {}", built.display());
    println!(
        "cargo:rustc-env=REVOPS_BUILT_POLICIES={}",
        out_dir.display()
    );
}

fn copy_components(from: &Path, to: &Path) -> usize {
    let mut copied = 0;
    for entry in fs::read_dir(from).expect("reading the policies build directory") {
        let path = entry.expect("directory entry").path();
        if path.extension().is_some_and(|e| e == "wasm") {
            let name = path.file_name().expect("file has a name");
            fs::copy(&path, to.join(name)).expect("copying a built policy");
            copied += 1;
        }
    }
    copied
}
