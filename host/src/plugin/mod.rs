//! revops as a Core Lightning plugin: the only code that speaks lightningd's plugin protocol
//! (through cln-plugin). `run` registers options, methods and subscriptions, resolves paths
//! from `init`, opens the state (or disables the plugin with the reason), starts the
//! scheduler and serves until lightningd says `shutdown` or closes stdin.

mod errors;
mod framing;
mod lds;
mod notifications;
mod options;
mod params;
mod policies;
mod rpc;
mod scheduler;
mod state;
mod summary;

pub use rpc::METHODS;

use cln_plugin::Builder;
use state::{LdsSetup, Revops, Setup};
use std::{path::PathBuf, time::Duration};

/// Runs the plugin until lightningd stops it.
pub fn run() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("revops")
        .build()?;
    let result = runtime.block_on(serve());
    // tokio reads stdin on a blocking thread that only returns when lightningd closes the
    // pipe; do not wait for it.
    runtime.shutdown_background();
    result
}

/// Methods cln-plugin has a handler for: ours, and the handshake.
fn handled(method: &str) -> bool {
    matches!(method, "getmanifest" | "init") || METHODS.iter().any(|(name, ..)| *name == method)
}

async fn serve() -> anyhow::Result<()> {
    // Every message from lightningd passes `framing` before cln-plugin reads it, so that no
    // request can end cln-plugin's read loop (see `framing`).
    let (from_lightningd, to_cln_plugin) = tokio::io::duplex(1 << 16);
    tokio::spawn(async move {
        if let Err(error) = framing::pump(tokio::io::stdin(), from_lightningd, handled).await {
            tracing::warn!(%error, "reading from lightningd failed");
        }
    });
    let builder = Builder::new(to_cln_plugin, tokio::io::stdout())
        .dynamic()
        .subscribe("forward_event", notifications::forward_event)
        .subscribe(
            "channel_state_changed",
            notifications::channel_state_changed,
        )
        .subscribe("block_added", notifications::block_added)
        .subscribe("shutdown", notifications::shutdown);
    let builder = rpc::register(options::register(builder));
    let Some(configured) = builder.configure().await? else {
        return Ok(()); // lightningd only wanted the manifest (e.g. `--help`).
    };
    let setup = match resolve_setup(&configured) {
        Ok(setup) => setup,
        Err(error) => {
            configured.disable(&format!("{error:#}")).await?;
            return Ok(());
        }
    };
    let state = match tokio::task::spawn_blocking(move || Revops::open(setup)).await? {
        Ok(state) => state,
        Err(error) => {
            configured
                .disable(&format!("cannot start: {error:#}"))
                .await?;
            return Ok(());
        }
    };
    let plugin = configured.start(state.clone()).await?;
    tracing::info!(version = %env!("CARGO_PKG_VERSION"), data_dir = %state.setup.data_dir.display(), "revops started");
    scheduler::spawn(state.clone());
    plugin.join().await?;
    // stdin closed or shutdown requested: let a running cycle finish, then flush the store.
    state.begin_shutdown(Duration::from_secs(20)).await;
    if let Err(error) = state.store().checkpoint() {
        tracing::warn!(%error, "could not checkpoint the database at shutdown");
    }
    tracing::info!("revops stopped");
    Ok(())
}

fn resolve_setup<I, O>(plugin: &cln_plugin::ConfiguredPlugin<Revops, I, O>) -> anyhow::Result<Setup>
where
    I: tokio::io::AsyncRead + Send + Unpin + 'static,
    O: Send + tokio::io::AsyncWrite + Unpin + 'static,
{
    let configuration = plugin.configuration();
    let lightning_dir = PathBuf::from(&configuration.lightning_dir);
    let data_dir = plugin
        .option(&options::DATA_DIR)?
        .map_or_else(|| lightning_dir.join("revops"), PathBuf::from);
    let policy_dir = plugin
        .option(&options::POLICY_DIR)?
        .map_or_else(|| data_dir.join("policies"), PathBuf::from);
    let rpc_timeout = plugin.option(&options::RPC_TIMEOUT)?;
    let ingest_interval = plugin.option(&options::INGEST_INTERVAL)?;
    if !(1..=3600).contains(&rpc_timeout) || !(1..=86_400).contains(&ingest_interval) {
        anyhow::bail!(
            "revenue-rpc-timeout-secs must be in 1..=3600 and revenue-ingest-interval-secs in 1..=86400"
        );
    }
    Ok(Setup {
        rpc_socket: lightning_dir.join(&configuration.rpc_file),
        data_dir,
        policy_dir,
        rpc_timeout: Duration::from_secs(rpc_timeout as u64),
        fee_policy: plugin
            .option(&options::FEE_POLICY)?
            .unwrap_or_else(|| format!("embedded:{}", crate::embedded::DEFAULT_FEE_POLICY)),
        ingest_interval: Duration::from_secs(ingest_interval as u64),
        wasm_pooling: plugin.option(&options::WASM_POOLING)?,
        config_base: options::config_base(plugin)?,
        lds: plugin
            .option(&options::LNBITS_URL)?
            .filter(|url| !url.trim().is_empty())
            .map(|lnbits_url| -> anyhow::Result<LdsSetup> {
                let operator_key = plugin
                    .option(&options::LDS_OPERATOR_KEY)?
                    .filter(|key| !key.trim().is_empty());
                Ok(LdsSetup {
                    lnbits_url,
                    operator_key,
                })
            })
            .transpose()?,
    })
}
