//! The host's cache of precompiled components.
//!
//! Compiling a Rust policy takes tens of milliseconds; a Python or JavaScript one, seconds.
//! Artifacts are keyed by the component's sha256 and by the engine's compatibility hash (an
//! artifact built with other engine settings cannot be loaded). Deserializing is `unsafe` in
//! wasmtime because a forged artifact is native code: only this host writes this directory
//! (created 0700, files 0600, written atomically), and anything that fails to load is deleted.

use sha2::{Digest, Sha256};
use std::{
    fs,
    hash::{Hash, Hasher},
    io::Write,
    os::unix::fs::{DirBuilderExt, OpenOptionsExt},
    path::{Path, PathBuf},
};
use wasmtime::{Engine, component::Component};

pub(crate) struct ComponentCache {
    dir: PathBuf,
    engine_key: String,
}

/// Feeds `std::hash::Hash` output into sha256, giving a key stable across processes.
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn finish(&self) -> u64 {
        unreachable!("only write() is used; the digest is read with finalize()")
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

impl ComponentCache {
    pub(crate) fn open(dir: &Path, engine: &Engine) -> std::io::Result<Self> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let mut hasher = Sha256Hasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let engine_key = hex::encode(&hasher.0.finalize()[..8]);
        Ok(Self {
            dir: dir.to_owned(),
            engine_key,
        })
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    fn path_for(&self, sha256: &[u8; 32]) -> PathBuf {
        self.dir
            .join(format!("{}-{}.cwasm", hex::encode(sha256), self.engine_key))
    }

    /// The cached component, or `None` (a miss, or an unusable artifact, which is removed).
    pub(crate) fn load(&self, engine: &Engine, sha256: &[u8; 32]) -> Option<Component> {
        let path = self.path_for(sha256);
        if !path.exists() {
            return None;
        }
        // SAFETY: the file is in the host's private cache directory and was written by
        // `store` from a component this host compiled itself; wasmtime additionally checks
        // that the artifact matches this engine's version and settings.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(component) => Some(component),
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "discarding unusable precompiled policy");
                let _ = fs::remove_file(&path);
                None
            }
        }
    }

    pub(crate) fn store(&self, sha256: &[u8; 32], component: &Component) -> std::io::Result<()> {
        let bytes = component
            .serialize()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let path = self.path_for(sha256);
        let temp = path.with_extension(format!("tmp{}", std::process::id()));
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        fs::rename(&temp, &path)
    }
}
