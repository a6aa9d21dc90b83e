//! A real LNbits 1.6.2 for tests: the venv and scripts under `lnbits/` (FakeWallet, SQLite,
//! the LDS Vault extension installed), one server per test process, on 127.0.0.1.

use serde_json::Value;
use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::Command,
    sync::{Arc, Mutex, OnceLock, Weak},
};

/// The repository root (the tests crate lives in `<root>/tests`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

fn scripts() -> PathBuf {
    repo_root().join("lnbits/scripts")
}

/// The venv's interpreter (LNbits' own; also has `sqlite3`).
pub fn venv_python() -> PathBuf {
    std::env::var_os("LNBITS_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/lnbits-venv"))
        .join("bin/python")
}

/// Makes the venv once per process (idempotent and quick when it is already there).
pub fn ensure_venv() {
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| {
        let status = Command::new("bash")
            .arg(scripts().join("setup-venv.sh"))
            .status()
            .expect("running lnbits/scripts/setup-venv.sh");
        assert!(
            status.success(),
            "lnbits/scripts/setup-venv.sh failed: LNbits tests need python3.10–3.12 with pip and PyPI"
        );
    });
}

/// One running LNbits with its admin bootstrapped.
pub struct Lnbits {
    pub url: String,
    workdir: tempfile::TempDir,
    /// `bootstrap.py init`'s answer: admin token and wallet, guard status.
    pub init: Value,
}

impl Lnbits {
    /// A server shared by the tests running at the same time: started by the first, stopped
    /// (`stop-lnbits.sh`) when the last of them lets go. Tests use their own wallets.
    pub fn acquire() -> Arc<Lnbits> {
        static SLOT: Mutex<Weak<Lnbits>> = Mutex::new(Weak::new());
        let mut slot = SLOT.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(server) = slot.upgrade() {
            return server;
        }
        let server = Arc::new(Lnbits::start());
        *slot = Arc::downgrade(&server);
        server
    }

    pub fn start() -> Lnbits {
        ensure_venv();
        let port = free_port();
        let workdir = tempfile::tempdir().expect("work dir");
        let output = Command::new("bash")
            .arg(scripts().join("start-lnbits.sh"))
            .args(["--port", &port.to_string(), "--workdir"])
            .arg(workdir.path())
            .output()
            .expect("running start-lnbits.sh");
        assert!(
            output.status.success(),
            "LNbits did not start:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut server = Lnbits {
            url,
            workdir,
            init: Value::Null,
        };
        server.init = server.bootstrap(&["init"]);
        server
    }

    /// Runs `bootstrap.py ARGS` against this server and returns its JSON answer.
    pub fn bootstrap(&self, args: &[&str]) -> Value {
        let output = Command::new(venv_python())
            .arg(scripts().join("bootstrap.py"))
            .args(["--url", &self.url])
            .args(args)
            .current_dir(self.workdir.path())
            .output()
            .expect("running bootstrap.py");
        assert!(
            output.status.success(),
            "bootstrap.py {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("bootstrap.py prints JSON")
    }

    /// A new investor wallet: `{id, adminkey, inkey, …}`.
    pub fn wallet(&self, name: &str) -> Value {
        self.bootstrap(&["create-user-wallet", name])
    }

    pub fn fund(&self, wallet_id: &str, sats: u64) {
        self.bootstrap(&["fund", wallet_id, &sats.to_string()]);
    }

    pub fn balance_msat(&self, key: &str) -> u64 {
        self.bootstrap(&["balance", key])["balance_msat"]
            .as_u64()
            .expect("balance_msat")
    }
}

impl Drop for Lnbits {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(scripts().join("stop-lnbits.sh"))
            .arg("--workdir")
            .arg(self.workdir.path())
            .output();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}
