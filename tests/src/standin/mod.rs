//! A stand-in lightningd: starts the real `revops` binary as lightningd starts a plugin,
//! speaks the plugin protocol on its stdin/stdout exactly as CLN v26.06 does (getmanifest,
//! init with `configuration`, RPC passthrough, setconfig, notifications, shutdown), and serves
//! the `lightning-rpc` socket from a simulated node (see `daemon`), recording every call.

pub mod askrene;
pub mod daemon;
pub mod kill;
pub mod payments;
pub mod shapes;

use crate::revops_binary;
use daemon::{Daemon, Fault};
use revops::sim::{Scenario, SimNetwork};
use serde_json::{Value, json};
use std::{
    io::{BufReader, Read, Write},
    os::unix::net::UnixListener,
    process::{Child, ChildStdin, Command, Stdio},
    sync::{
        Arc, Mutex,
        mpsc::{self, Receiver, RecvTimeoutError},
    },
    time::{Duration, Instant},
};
use tempfile::TempDir;

const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

pub struct StandIn {
    lightning_dir: Option<TempDir>,
    pub daemon: Arc<Mutex<Daemon>>,
    pub manifest: Value,
    /// The answer to `init` (`{}`, or `{"disable": reason}`).
    pub init_result: Value,
    /// The options lightningd passed in `init` (what `listconfigs` reports for the plugin).
    pub init_options: Value,
    child: Child,
    stdin: Option<ChildStdin>,
    answers: Receiver<Value>,
    logs: Arc<Mutex<Vec<String>>>,
    next_id: u64,
}

/// Just the `lightning-rpc` socket of a stand-in, without a plugin process: for driving
/// revops' lightningd client directly.
pub struct Socket {
    pub dir: TempDir,
    pub path: std::path::PathBuf,
    pub daemon: Arc<Mutex<Daemon>>,
}

pub fn serve_socket(node: SimNetwork) -> Socket {
    let dir = tempfile::tempdir().expect("temp lightning-dir");
    let path = dir.path().join("lightning-rpc");
    let daemon = Arc::new(Mutex::new(Daemon::new(node)));
    daemon::serve(
        UnixListener::bind(&path).expect("bind lightning-rpc"),
        daemon.clone(),
    );
    Socket { dir, path, daemon }
}

/// A simulated node for the stand-in: the built-in default scenario with `channels` channels.
pub fn simulated_node(channels: usize) -> SimNetwork {
    SimNetwork::new(
        &Scenario::builtin("default").expect("built-in"),
        Some(channels),
    )
}

impl StandIn {
    /// Starts revops with `options` (as in lightningd's config) against `node`.
    pub fn start(node: SimNetwork, options: Value) -> Self {
        let dir = tempfile::tempdir().expect("temp lightning-dir");
        Self::start_in(dir, node, options)
    }

    /// Starts revops in an existing lightning-dir (a restart keeps revops' data there).
    pub fn start_in(lightning_dir: TempDir, node: SimNetwork, options: Value) -> Self {
        Self::start_with_env(lightning_dir, node, options, &[])
    }

    /// As `start_in`, with extra environment for the plugin process (e.g. a failpoint).
    pub fn start_with_env(
        lightning_dir: TempDir,
        node: SimNetwork,
        options: Value,
        env: &[(&str, &str)],
    ) -> Self {
        let daemon = Arc::new(Mutex::new(Daemon::new(node)));
        Self::start_on(lightning_dir, daemon, options, env)
    }

    /// Starts revops against an existing daemon (a restart after a crash keeps lightningd's
    /// state: its layers, payments and the calls recorded so far).
    pub fn start_on(
        lightning_dir: TempDir,
        daemon: Arc<Mutex<Daemon>>,
        options: Value,
        env: &[(&str, &str)],
    ) -> Self {
        let socket = lightning_dir.path().join("lightning-rpc");
        let _ = std::fs::remove_file(&socket);
        daemon::serve(
            UnixListener::bind(&socket).expect("bind lightning-rpc"),
            daemon.clone(),
        );

        let mut child = Command::new(revops_binary())
            .env("LIGHTNINGD_PLUGIN", "1")
            .env("CLN_PLUGIN_LOG", "debug")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start revops");
        let stdin = child.stdin.take().expect("stdin");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let answers = read_stdout(child.stdout.take().expect("stdout"), logs.clone());
        read_stderr(child.stderr.take().expect("stderr"), logs.clone());
        let mut standin = Self {
            lightning_dir: Some(lightning_dir),
            daemon,
            manifest: Value::Null,
            init_result: Value::Null,
            init_options: Value::Null,
            child,
            stdin: Some(stdin),
            answers,
            logs,
            next_id: 1,
        };
        standin.handshake(options);
        standin
    }

    fn handshake(&mut self, options: Value) {
        let manifest = self
            .request("getmanifest", json!({ "allow-deprecated-apis": false }))
            .expect("getmanifest answered");
        self.manifest = manifest;
        let mut init = shapes::init_request()["params"].clone();
        init["options"] = persisted_setconfig(self.dir(), &self.manifest, options);
        self.init_options = init["options"].clone();
        init["configuration"]["lightning-dir"] = json!(self.dir());
        init["configuration"]["startup"] = json!(true);
        self.init_result = self.request("init", init).expect("init answered");
    }

    /// The lightning-dir (revops keeps its data in `revops/` under it).
    pub fn dir(&self) -> &std::path::Path {
        self.lightning_dir
            .as_ref()
            .expect("present until stop")
            .path()
    }

    fn send(&mut self, message: &Value) {
        let mut text = serde_json::to_string(message).unwrap();
        text.push_str("\n\n");
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(text.as_bytes()).expect("write to revops");
        stdin.flush().expect("flush");
    }

    /// Sends a request as lightningd does (string ids like `7/cln:method#1007`) and waits for
    /// its answer: `Ok(result)` or `Err(error object)`.
    pub fn request(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        let id = format!("{}/cln:{method}#{}", self.next_id, 1000 + self.next_id);
        self.next_id += 1;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        self.answer_to(&json!(id), method)
    }

    /// Passes a caller's request text through unchanged, as lightningd does for a plugin's
    /// method (`text` is everything of the message; its `id` must be `id`), and waits for the
    /// answer. For malformed requests: too deep, bad UTF-8, huge numbers.
    pub fn request_raw(&mut self, id: &str, text: &[u8]) -> Result<Value, Value> {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(text).expect("write to revops");
        stdin.write_all(b"\n\n").expect("write to revops");
        stdin.flush().expect("flush");
        self.answer_to(&json!(id), "a raw request")
    }

    /// Writes a message that has no id to answer (garbage, a bare array, an object without
    /// an id), as a caller's text passed through; nothing waits for an answer.
    pub fn send_unanswerable(&mut self, text: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(text).expect("write to revops");
        stdin.write_all(b"\n\n").expect("write to revops");
        stdin.flush().expect("flush");
    }

    fn answer_to(&mut self, id: &Value, what: &str) -> Result<Value, Value> {
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.answers.recv_timeout(left) {
                Ok(answer) if &answer["id"] == id => {
                    return match answer.get("error") {
                        Some(error) => Err(error.clone()),
                        None => Ok(answer["result"].clone()),
                    };
                }
                Ok(_) => continue,
                Err(RecvTimeoutError::Timeout) => panic!(
                    "no answer to {what} in {ANSWER_TIMEOUT:?}; logs:\n{}",
                    self.logs().join("\n")
                ),
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "revops exited while answering {what}; logs:\n{}",
                    self.logs().join("\n")
                ),
            }
        }
    }

    /// Sends a request without waiting for its answer (a crash test kills the plugin while it
    /// works on it).
    pub fn send_request(&mut self, method: &str, params: Value) {
        let id = format!("{}/cln:{method}#{}", self.next_id, 1000 + self.next_id);
        self.next_id += 1;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
    }

    /// Sends a call the plugin is expected to die on (a failpoint); true once it has exited
    /// without answering.
    pub fn call_expecting_exit(&mut self, method: &str, params: Value) -> bool {
        let id = format!("{}/cln:{method}#{}", self.next_id, 1000 + self.next_id);
        self.next_id += 1;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            match self.answers.recv_timeout(ANSWER_TIMEOUT) {
                Ok(answer) if answer["id"] == json!(id) => return false,
                Ok(_) => continue,
                Err(RecvTimeoutError::Timeout) => return false,
                Err(RecvTimeoutError::Disconnected) => return true,
            }
        }
    }

    /// An RPC method call passed through from a client (`lightning-cli revenue-…`).
    pub fn call(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        self.request(method, params)
    }

    /// `lightning-cli setconfig NAME VAL` as lightningd v26.06 handles it: an option the plugin
    /// did not declare dynamic is refused by lightningd itself (-32602, without contacting the
    /// plugin); a dynamic one is passed on with `val` as a string, and when the plugin accepts
    /// it lightningd persists it in `<lightning-dir>/config.setconfig`, which every later start
    /// reads (see `persisted_setconfig`).
    pub fn setconfig(&mut self, name: &str, val: &str) -> Result<Value, Value> {
        let declared = self.manifest["options"]
            .as_array()
            .and_then(|options| options.iter().find(|o| o["name"] == name))
            .cloned();
        let Some(option) = declared else {
            // Not captured from a real node; the shape of lightningd's parameter errors.
            return Err(json!({
                "code": -32602,
                "message": format!("config: Unknown config option: invalid token '\"{name}\"'"),
            }));
        };
        if option["dynamic"] != json!(true) {
            // Exactly as captured (plugin-protocol/rpc-setconfig-non-dynamic-option.json).
            return Err(json!({
                "code": -32602,
                "message": format!("config: Not a dynamic config option: invalid token '\"{name}\"'"),
            }));
        }
        self.request("setconfig", json!({ "config": name, "val": val }))?;
        let path = self.dir().join("config.setconfig");
        let mut lines: Vec<String> = std::fs::read_to_string(&path)
            .unwrap_or_default()
            .lines()
            .filter(|line| !line.starts_with(&format!("{name}=")))
            .map(str::to_owned)
            .collect();
        lines.push(format!("{name}={val}"));
        std::fs::write(&path, lines.join("\n") + "\n").expect("write config.setconfig");
        Ok(
            json!({ "config": { "config": name, "source": format!("{}:{}", path.display(), lines.len()), "dynamic": true } }),
        )
    }

    /// `lightning-cli listconfigs CONFIG` for one of the plugin's options, as lightningd
    /// answers it (`rpc-listconfigs-plugin-options.json`): the value it passed at start, never
    /// what the plugin changed since; an option not given shows its manifest default.
    pub fn listconfigs(&self, name: &str) -> Result<Value, Value> {
        let option = self.manifest["options"]
            .as_array()
            .and_then(|options| options.iter().find(|o| o["name"] == name))
            .ok_or_else(|| {
                json!({ "code": -32602, "message": format!("config: Unknown config option '{name}'") })
            })?;
        let (value, source) = match self.init_options.get(name) {
            Some(value) => (value.clone(), "pluginstart"),
            None => match option.get("default") {
                Some(default) => (default.clone(), "default"),
                None => return Ok(json!({ "configs": {} })),
            },
        };
        let field = match option["type"].as_str() {
            Some("int") => "value_int",
            Some("bool") | Some("flag") => "value_bool",
            _ => "value_str",
        };
        let mut entry =
            json!({ field: value, "source": source, "plugin": "/usr/local/libexec/revops" });
        if option["dynamic"] == json!(true) {
            entry["dynamic"] = json!(true);
        }
        Ok(json!({ "configs": { name: entry } }))
    }

    /// `revenue-policy-load fee SLOT PATH PARAMS` (keyword form).
    pub fn load_fee_policy(
        &mut self,
        slot: &str,
        path: &str,
        params: Value,
    ) -> Result<Value, Value> {
        self.call(
            "revenue-policy-load",
            json!({ "kind": "fee", "name": slot, "path": path, "params": params }),
        )
    }

    /// `revenue-run fee`: one fee cycle now, its report.
    pub fn run_fee_cycle(&mut self) -> Value {
        self.call("revenue-run", json!(["fee"]))
            .expect("cycle runs")
    }

    /// Puts a guest the build made into revops' policy directory.
    pub fn install_guest(&self, guest: &str) {
        let dir = self.dir().join("revops").join("policies");
        std::fs::copy(crate::built_guest(guest), dir.join(guest)).expect("copy guest");
    }

    pub fn notify(&mut self, message: &Value) {
        let problems = crate::schema::check_notification_message(message);
        self.daemon
            .lock()
            .unwrap()
            .schema_violations
            .extend(problems);
        self.send(message);
    }

    /// The CLN schema violations seen so far, taken (so the check at drop no longer sees
    /// them): for tests that provoke one on purpose.
    pub fn take_schema_violations(&self) -> Vec<String> {
        std::mem::take(&mut self.daemon.lock().unwrap().schema_violations)
    }

    pub fn fail(&self, method: &str, fault: Fault) {
        self.daemon
            .lock()
            .unwrap()
            .faults
            .insert(method.to_owned(), fault);
    }

    pub fn heal(&self, method: &str) {
        self.daemon.lock().unwrap().faults.remove(method);
    }

    pub fn calls_of(&self, method: &str) -> Vec<Value> {
        self.daemon.lock().unwrap().calls_of(method)
    }

    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().unwrap().clone()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the plugin process is still running.
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().expect("wait").is_none()
    }

    /// Closes the plugin's stdin, as when lightningd dies, and waits for the process to exit.
    pub fn close_stdin(mut self) -> std::process::ExitStatus {
        drop(self.stdin.take());
        self.wait_for_exit()
    }

    fn wait_for_exit(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "revops did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends `shutdown` as lightningd does and waits for the process to exit; returns the
    /// lightning-dir and the node for a restart.
    pub fn stop(mut self) -> (TempDir, SimNetwork, std::process::ExitStatus) {
        self.notify(&shapes::shutdown());
        let status = self.wait_for_exit();
        // The socket thread keeps its handle on the daemon; take the node out of it.
        let node = std::mem::replace(&mut self.daemon.lock().unwrap().node, simulated_node(1));
        let dir = self.lightning_dir.take().expect("present until stop");
        (dir, node, status)
    }
}

impl StandIn {
    /// After the plugin was killed (or died): waits for the process and returns the
    /// lightning-dir and the daemon, lightningd's state, for `start_on`.
    pub fn after_kill(mut self) -> (TempDir, Arc<Mutex<Daemon>>, std::process::ExitStatus) {
        let status = self.child.wait().expect("waiting for revops");
        let dir = self.lightning_dir.take().expect("present until stop");
        (dir, self.daemon.clone(), status)
    }

    /// After the plugin died on its own: waits for the process and returns the lightning-dir
    /// and the node for a restart.
    pub fn after_crash(mut self) -> (TempDir, SimNetwork, std::process::ExitStatus) {
        let status = self.child.wait().expect("waiting for revops");
        let node = std::mem::replace(&mut self.daemon.lock().unwrap().node, simulated_node(1));
        let dir = self.lightning_dir.take().expect("present until stop");
        (dir, node, status)
    }
}

impl StandIn {
    /// Kills the plugin with SIGKILL, wherever it is, and returns the lightning-dir and the
    /// node for a restart (lightningd keeps running, as on a real node), with every call the
    /// node acted on. The calls are read in the same moment the node is taken: a request still
    /// in the socket's buffer is served later by the stand-in's thread, but to a node that is
    /// no longer the one returned.
    pub fn kill(mut self) -> (TempDir, SimNetwork, Vec<(String, Value)>) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let (node, calls) = {
            let mut daemon = self.daemon.lock().unwrap();
            let node = std::mem::replace(&mut daemon.node, simulated_node(1));
            (node, daemon.calls.clone())
        };
        let dir = self.lightning_dir.take().expect("present until stop");
        (dir, node, calls)
    }

    /// revops' database in the lightning-dir (read by the crash tests after a kill).
    pub fn database_path(dir: &std::path::Path) -> std::path::PathBuf {
        dir.join("revops").join("revops.sqlite3")
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        fail_on_schema_violations(&self.daemon);
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        fail_on_schema_violations(&self.daemon);
    }
}

/// Fails the test (unless it is failing already) when the plugin sent, or the stand-in gave,
/// anything CLN v26.06's schemas do not allow.
fn fail_on_schema_violations(daemon: &Mutex<Daemon>) {
    let mut daemon = daemon
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let violations = std::mem::take(&mut daemon.schema_violations);
    if !violations.is_empty() && !std::thread::panicking() {
        panic!(
            "{} message(s) on the stand-in broke CLN v26.06's schemas:\n{}",
            violations.len(),
            violations.join("\n")
        );
    }
}

/// The options lightningd passes at start: those given, over the values `setconfig` persisted
/// in `config.setconfig`. lightningd refuses to start when that file names an option no plugin
/// declares (`unknown option`), as a real v26.06.6 node did after a plugin's dynamic option
/// was persisted: the stand-in panics with that message.
fn persisted_setconfig(dir: &std::path::Path, manifest: &Value, mut options: Value) -> Value {
    let Ok(text) = std::fs::read_to_string(dir.join("config.setconfig")) else {
        return options;
    };
    for line in text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let (name, value) = line.split_once('=').unwrap_or((line, ""));
        let declared = manifest["options"]
            .as_array()
            .and_then(|all| all.iter().find(|o| o["name"] == name));
        let Some(option) = declared else {
            panic!("lightningd would refuse to start: config.setconfig: {name}: unknown option");
        };
        let value = match option["type"].as_str() {
            Some("int") => value
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or(json!(value)),
            Some("bool") => json!(value == "true"),
            _ => json!(value),
        };
        options[name] = value;
    }
    options
}

/// Splits the plugin's stdout into answers (to the channel) and log notifications.
fn read_stdout(
    stdout: impl Read + Send + 'static,
    logs: Arc<Mutex<Vec<String>>>,
) -> Receiver<Value> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let messages =
            serde_json::Deserializer::from_reader(BufReader::new(stdout)).into_iter::<Value>();
        for message in messages {
            let Ok(message) = message else { return };
            if message["method"] == "log" {
                let line = format!(
                    "[{}] {}",
                    message["params"]["level"].as_str().unwrap_or("?"),
                    message["params"]["message"].as_str().unwrap_or_default()
                );
                logs.lock().unwrap().push(line);
            } else if message.get("id").is_some() && sender.send(message).is_err() {
                return;
            }
        }
    });
    receiver
}

fn read_stderr(mut stderr: impl Read + Send + 'static, logs: Arc<Mutex<Vec<String>>>) {
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        if !text.is_empty() {
            logs.lock().unwrap().push(format!("[stderr] {text}"));
        }
    });
}
