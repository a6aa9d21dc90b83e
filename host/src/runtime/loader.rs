//! From bytes to a `LoadedPolicy`: hash, compile (or take from cache), check what the
//! component imports and which world it implements, type-check, describe, resolve parameters.
//! Also confines file loads to the policy directory.

use super::{
    bindings::{fee, payout, rebalance},
    convert,
    errors::LoadError,
    limits::RuntimeLimits,
    policy::{self, LoadedPolicy, PolicyPre, PolicySource},
    sandbox::Sandbox,
    wasi,
};
use crate::model::PolicyKind;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::Arc,
    time::SystemTime,
};
use wasmtime::component::Component;

/// What a policy may import: the log function, and the types interface (type definitions
/// only, nothing callable). Besides these, the capability-free WASI interfaces of
/// `wasi::ALLOWED_WASI_PACKAGES` (served deterministically, see `wasi.rs`).
pub const ALLOWED_IMPORTS: [&str; 2] = ["revops:policy/logging@0.1.0", "revops:policy/types@0.1.0"];
/// Large enough for componentize-py output (about 18 MB), small enough to refuse nonsense.
pub const MAX_POLICY_BYTES: u64 = 64 << 20;

/// The directory policies may be loaded from; paths that resolve outside it are refused.
#[derive(Clone, Debug)]
pub struct PolicyDir {
    root: PathBuf,
}

impl PolicyDir {
    pub fn new(dir: &Path) -> std::io::Result<Self> {
        let root = dir.canonicalize()?;
        if !root.is_dir() {
            return Err(std::io::Error::other(format!(
                "{} is not a directory",
                root.display()
            )));
        }
        Ok(Self { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Resolves `requested` (relative to the directory, or absolute) and refuses anything
    /// outside the directory: first judged on the path's text alone, before the filesystem is
    /// touched (so an answer never tells whether something outside exists), then again after
    /// following symlinks.
    pub fn resolve(&self, requested: &Path) -> Result<PathBuf, LoadError> {
        let outside = || LoadError::OutsidePolicyDir {
            path: requested.to_owned(),
            dir: self.root.clone(),
        };
        let candidate = lexically_joined(&self.root, requested).ok_or_else(outside)?;
        if !candidate.starts_with(&self.root) {
            return Err(outside());
        }
        let resolved = candidate.canonicalize().map_err(|source| LoadError::Io {
            path: candidate.clone(),
            source,
        })?;
        if !resolved.starts_with(&self.root) {
            return Err(outside());
        }
        Ok(resolved)
    }

    /// Reads a policy file from the directory, refusing oversized files before reading them.
    pub fn read(&self, requested: &Path) -> Result<(PathBuf, Vec<u8>), LoadError> {
        let path = self.resolve(requested)?;
        read_policy_file(&path).map(|bytes| (path, bytes))
    }
}

/// `base` joined with `requested` (absolute: `requested` alone), with `.` and `..` applied to
/// the text; `None` if `..` climbs above the filesystem root.
fn lexically_joined(base: &Path, requested: &Path) -> Option<PathBuf> {
    let mut path = PathBuf::new();
    for part in base.join(requested).components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !path.pop() {
                    return None;
                }
            }
            other => path.push(other),
        }
    }
    Some(path)
}

/// Reads a policy file anywhere (the CLI's `policy check`), with the size limit.
pub fn read_policy_file(path: &Path) -> Result<Vec<u8>, LoadError> {
    let io = |source| LoadError::Io {
        path: path.to_owned(),
        source,
    };
    let bytes = std::fs::metadata(path).map_err(io)?.len();
    if bytes > MAX_POLICY_BYTES {
        return Err(LoadError::TooBig {
            path: path.to_owned(),
            bytes,
            max: MAX_POLICY_BYTES,
        });
    }
    std::fs::read(path).map_err(io)
}

/// What to load and how.
pub struct LoadRequest<'a> {
    /// The expected kind; `None` accepts any of the three worlds (for inspection).
    pub kind: Option<PolicyKind>,
    pub wasm: &'a [u8],
    pub source: PolicySource,
    pub params: &'a BTreeMap<String, Value>,
    pub limits: RuntimeLimits,
}

pub fn prepare(
    sandbox: &Arc<Sandbox>,
    request: LoadRequest<'_>,
) -> Result<LoadedPolicy, LoadError> {
    let sha256: [u8; 32] = Sha256::digest(request.wasm).into();
    let (component, compile) = sandbox.compile(request.wasm, &sha256)?;
    let uses_wasi = check_imports(sandbox, &component)?;
    let kind = world_of(sandbox, &component, request.kind)?;
    let pre = type_check(sandbox, kind, &component, uses_wasi)?;
    let limits = request.limits.for_component(request.wasm.len());
    let describe_name: Arc<str> = Arc::from(format!("{kind}:{}", request.source));
    let info = policy::describe(sandbox, &pre, &describe_name, &limits, uses_wasi)
        .map_err(LoadError::Describe)?;
    info.validate_schema()?;
    let params = info.resolve(request.params)?;
    let log_name = Arc::from(format!("{kind}:{}", info.name));
    Ok(LoadedPolicy {
        kind,
        wit_params: convert::params_to_wit(&params),
        info,
        params,
        sha256,
        size_bytes: request.wasm.len(),
        source: request.source,
        compile,
        loaded_at: SystemTime::now(),
        limits,
        sandbox: sandbox.clone(),
        pre,
        log_name,
        uses_wasi,
    })
}

/// Refuses any import but ours and capability-free WASI; true when WASI is imported.
fn check_imports(sandbox: &Sandbox, component: &Component) -> Result<bool, LoadError> {
    let ty = component.component_type();
    let mut uses_wasi = false;
    for (name, _) in ty.imports(sandbox.engine()) {
        if wasi::is_allowed_wasi_import(name) {
            uses_wasi = true;
        } else if !ALLOWED_IMPORTS.contains(&name) {
            return Err(LoadError::ForbiddenImport {
                import: name.to_owned(),
            });
        }
    }
    Ok(uses_wasi)
}

/// Which world the component implements, judged by its decision export.
fn world_of(
    sandbox: &Sandbox,
    component: &Component,
    expected: Option<PolicyKind>,
) -> Result<PolicyKind, LoadError> {
    let exports: Vec<String> = component
        .component_type()
        .exports(sandbox.engine())
        .map(|(name, _)| name.to_owned())
        .collect();
    let found = PolicyKind::ALL
        .into_iter()
        .find(|kind| exports.iter().any(|e| e == kind.decision_export()));
    match (expected, found) {
        (Some(expected), Some(found)) if expected == found => Ok(found),
        (None, Some(found)) => Ok(found),
        (expected, found) => Err(LoadError::WrongWorld {
            expected: expected.map_or("revops policy", PolicyKind::world),
            found: found.map_or_else(
                || "component of another world".to_owned(),
                |k| k.world().to_owned(),
            ),
            detail: format!("it exports: {}", exports.join(", ")),
        }),
    }
}

fn type_check(
    sandbox: &Sandbox,
    kind: PolicyKind,
    component: &Component,
    uses_wasi: bool,
) -> Result<PolicyPre, LoadError> {
    let mismatch = |e: wasmtime::Error| LoadError::WrongWorld {
        expected: kind.world(),
        found: "component with incompatible types".into(),
        detail: format!("{e:#}"),
    };
    let instance_pre = sandbox
        .linker(uses_wasi)
        .instantiate_pre(component)
        .map_err(mismatch)?;
    Ok(match kind {
        PolicyKind::Fee => PolicyPre::Fee(fee::FeePolicyPre::new(instance_pre).map_err(mismatch)?),
        PolicyKind::Rebalance => PolicyPre::Rebalance(
            rebalance::RebalancePolicyPre::new(instance_pre).map_err(mismatch)?,
        ),
        PolicyKind::Payout => {
            PolicyPre::Payout(payout::PayoutPolicyPre::new(instance_pre).map_err(mismatch)?)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_dir_refuses_escapes() {
        let outer = tempfile::tempdir().unwrap();
        let dir = outer.path().join("policies");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("ok.wasm"), b"x").unwrap();
        std::fs::write(outer.path().join("secret.wasm"), b"x").unwrap();
        std::os::unix::fs::symlink(outer.path().join("secret.wasm"), dir.join("link.wasm"))
            .unwrap();
        let policies = PolicyDir::new(&dir).unwrap();
        assert!(policies.resolve(Path::new("ok.wasm")).is_ok());
        for escape in ["../secret.wasm", "link.wasm"] {
            assert!(matches!(
                policies.resolve(Path::new(escape)),
                Err(LoadError::OutsidePolicyDir { .. })
            ));
        }
        let absolute = outer.path().join("secret.wasm");
        assert!(matches!(
            policies.resolve(&absolute),
            Err(LoadError::OutsidePolicyDir { .. })
        ));
        assert!(matches!(
            policies.resolve(Path::new("missing.wasm")),
            Err(LoadError::Io { .. })
        ));
        assert!(policies.resolve(Path::new("./sub/../ok.wasm")).is_ok());
    }

    #[test]
    fn an_escape_is_refused_whether_or_not_its_target_exists() {
        let outer = tempfile::tempdir().unwrap();
        let dir = outer.path().join("policies");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(outer.path().join("exists.wasm"), b"x").unwrap();
        let policies = PolicyDir::new(&dir).unwrap();
        for escape in [
            "../exists.wasm",
            "../missing.wasm",
            "../../../../../../../../missing.wasm",
            "/nonexistent/dir/x.wasm",
            "sub/../../missing.wasm",
        ] {
            let error = policies.resolve(Path::new(escape)).unwrap_err();
            assert!(
                matches!(error, LoadError::OutsidePolicyDir { .. }),
                "{escape}: {error}"
            );
        }
    }
}
