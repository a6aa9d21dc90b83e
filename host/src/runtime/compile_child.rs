//! Compiling large components in a short-lived child process.
//!
//! Compiling an interpreter component (Python, JavaScript: 12–18 MB of wasm) takes hundreds of
//! MB of heap on the compiler's threads, and the allocator keeps most of it after the compiler
//! is done: a node would carry it for good after one such load. So the long-running plugin has
//! the `revops` binary itself compile them into the precompiled cache, and maps the result
//! from there like any cached component.

use super::sandbox::Sandbox;
use std::{
    io::Write,
    os::unix::fs::OpenOptionsExt,
    path::{Path, PathBuf},
    process::{Command, ExitCode, Stdio},
};

/// Set (to the component's path) in the child's environment, with `CACHE_ENV`.
const COMPONENT_ENV: &str = "REVOPS_COMPILE_COMPONENT";
const CACHE_ENV: &str = "REVOPS_COMPILE_CACHE";

/// In the parent: compiles `wasm` (whose sha256 is `sha_hex`) into `cache_dir` by running
/// `exe` as the child. The component goes through a private file in the cache directory.
pub(crate) fn compile_in_child(
    exe: &Path,
    cache_dir: &Path,
    sha_hex: &str,
    wasm: &[u8],
) -> Result<(), String> {
    let input = cache_dir.join(format!("{sha_hex}.wasm.tmp{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&input)?;
        file.write_all(wasm)
    };
    let result = write().map_err(|e| e.to_string()).and_then(|()| {
        let output = Command::new(exe)
            .env_remove("LIGHTNINGD_PLUGIN")
            .env(COMPONENT_ENV, &input)
            .env(CACHE_ENV, cache_dir)
            .stdin(Stdio::null())
            // stdout may be lightningd's protocol stream: the child never writes there.
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{}: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ))
        }
    });
    let _ = std::fs::remove_file(&input);
    result
}

/// In the child: when started as the compiler (its environment says so), compiles the
/// component into the cache and returns the exit code; `None` otherwise.
pub fn run_if_child() -> Option<ExitCode> {
    let component = PathBuf::from(std::env::var_os(COMPONENT_ENV)?);
    let cache = PathBuf::from(std::env::var_os(CACHE_ENV)?);
    let compiled = || -> anyhow::Result<()> {
        let wasm = std::fs::read(&component)?;
        let sandbox = Sandbox::new(Some(&cache))?;
        sandbox.compile_here(&wasm)?;
        Ok(())
    };
    Some(match compiled() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error:#}");
            ExitCode::FAILURE
        }
    })
}
