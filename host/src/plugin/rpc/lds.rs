//! `revenue-lds-*`: the investor registry, balance snapshots and the solvency check.

use super::{
    super::state::{Revops, unix_now},
    blocking, to_value,
};
use crate::{
    lds::{
        distribution::tier_name,
        twab::{TWAB_WINDOW_SECS, twab},
    },
    lnbits::LnbitsError,
    model::LockTier,
    payout::PayoutError,
    plugin::{
        errors::{
            CYCLE_FAILED, INTERNAL, INVALID_PARAMS, LNBITS_FAILED, NOT_FOUND, PAYOUT_HALTED,
            UNSUPPORTED, internal, invalid_params, rpc_error,
        },
        lds::LdsError,
        params::Params,
    },
    store::Investor,
};
use cln_plugin::Plugin;
use serde_json::{Value, json};

const DAY_SECS: u64 = 86_400;

/// The coded RPC error for an LDS failure.
pub(super) fn lds_error(error: LdsError) -> anyhow::Error {
    let code = match &error {
        LdsError::Off => UNSUPPORTED,
        LdsError::Payout(payout) => match payout {
            PayoutError::NoInvestors => NOT_FOUND,
            PayoutError::Period(_) => INVALID_PARAMS,
            PayoutError::Lnbits(_) => LNBITS_FAILED,
            PayoutError::Insolvent(_) => PAYOUT_HALTED,
            PayoutError::NoPayer => UNSUPPORTED,
            PayoutError::Store(_) => INTERNAL,
            PayoutError::Policy(_)
            | PayoutError::NoPolicy(_)
            | PayoutError::Refused(_)
            | PayoutError::Node(_) => CYCLE_FAILED,
        },
    };
    rpc_error(code, error)
}

/// LNbits' answer about a key an investor call was given: a key LNbits refuses is a bad
/// parameter, anything else means LNbits could not tell (nothing was changed).
fn key_error(error: LnbitsError) -> anyhow::Error {
    match error {
        LnbitsError::Refused {
            status: status @ (401 | 403 | 404),
            detail,
            ..
        } => invalid_params(format!(
            "LNbits does not know that key ({status}: {detail})"
        )),
        other => rpc_error(LNBITS_FAILED, format!("{other}; nothing was changed")),
    }
}

/// Names we accept for investors and payout periods: short, printable, safe in an external id.
pub(super) fn check_name(what: &str, name: &str) -> anyhow::Result<()> {
    let fine = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if fine {
        Ok(())
    } else {
        Err(invalid_params(format!(
            "{what} {name:?}: 1 to 64 characters of A-Z a-z 0-9 - _ ."
        )))
    }
}

fn check_hex32(what: &str, value: &str) -> anyhow::Result<()> {
    if value.len() == 32 && value.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(invalid_params(format!(
            "{what} must be LNbits' 32 hex characters"
        )))
    }
}

/// A tier as written (`liquid`, `30d`, `90d`; the `days30`/`days90` spellings of older
/// answers are still read).
fn tier_of(text: &str) -> anyhow::Result<LockTier> {
    match text {
        "liquid" => Ok(LockTier::Liquid),
        "30d" | "days30" => Ok(LockTier::Days30),
        "90d" | "days90" => Ok(LockTier::Days90),
        other => Err(invalid_params(format!(
            "tier {other:?}: liquid, 30d or 90d"
        ))),
    }
}

fn lock_expiry(tier: LockTier, from: u64) -> Option<u64> {
    match tier {
        LockTier::Liquid => None,
        LockTier::Days30 => Some(from + 30 * DAY_SECS),
        LockTier::Days90 => Some(from + 90 * DAY_SECS),
    }
}

fn investor_json(investor: &Investor) -> Value {
    json!({
        "id": investor.id,
        "wallet_id": investor.wallet_id,
        "tier": tier_name(investor.tier),
        "lock_expiry": investor.lock_expiry,
        "joined_at": investor.joined_at,
    })
}

/// Checks an investor's key against LNbits: an invoice key (never one that can spend), of the
/// named wallet, which is not the operator's payout wallet. Returns warnings.
fn verify_wallet(
    state: &Revops,
    runtime: &tokio::runtime::Handle,
    wallet_id: &str,
    invoice_key: &str,
) -> anyhow::Result<Vec<String>> {
    let client = state
        .lnbits
        .clone()
        .ok_or_else(|| lds_error(LdsError::Off))?;
    let key = runtime
        .block_on(client.wallet_key(invoice_key))
        .map_err(key_error)?;
    if key.admin_of.is_some() {
        return Err(invalid_params(
            "that is the wallet's admin key, which can spend: give its invoice key (revops never \
             holds a key that can spend an investor's money)",
        ));
    }
    let operator_wallet = operator_wallet(state, runtime, &client)?;
    let is_operator = |id: &str| operator_wallet.as_deref() == Some(id);
    if is_operator(wallet_id) {
        return Err(invalid_params(format!(
            "wallet {wallet_id} is the operator's payout wallet (revenue-lds-operator-key): it \
             cannot be an investor"
        )));
    }
    match runtime.block_on(client.vault_status(invoice_key)) {
        Ok(status) if is_operator(&status.wallet_id) => Err(invalid_params(
            "that invoice key opens the operator's payout wallet (revenue-lds-operator-key): it \
             cannot be an investor",
        )),
        Ok(status) if status.wallet_id == wallet_id => Ok(Vec::new()),
        Ok(status) => Err(invalid_params(format!(
            "that invoice key opens wallet {}, not {wallet_id}",
            status.wallet_id
        ))),
        // The LDS Vault is not enabled for this wallet's user (403) or not installed (404).
        Err(LnbitsError::Refused {
            status: 403 | 404, ..
        }) => Ok(vec![
            "the LDS Vault extension is not enabled for this wallet's user: the wallet id \
             could not be confirmed and its lock cannot be read"
                .to_owned(),
        ]),
        Err(error) => Err(key_error(error)),
    }
}

/// The id of the operator's payout wallet, which its admin key shows; `None` without one.
fn operator_wallet(
    state: &Revops,
    runtime: &tokio::runtime::Handle,
    client: &crate::lnbits::LnbitsClient,
) -> anyhow::Result<Option<String>> {
    let Some(key) = state.lds_setup().and_then(|l| l.operator_key.clone()) else {
        return Ok(None);
    };
    match runtime.block_on(client.wallet_key(&key)) {
        Ok(answer) => answer.admin_of.map(Some).ok_or_else(|| {
            rpc_error(
                UNSUPPORTED,
                "revenue-lds-operator-key is not an admin key: payouts cannot be paid from it",
            )
        }),
        Err(error) => Err(rpc_error(
            LNBITS_FAILED,
            format!(
                "the operator key (revenue-lds-operator-key) could not be checked: {error}; \
                 nothing was changed"
            ),
        )),
    }
}

/// Refuses a wallet or key that already belongs to another active investor.
fn check_unshared(
    state: &Revops,
    id: &str,
    wallet_id: Option<&str>,
    invoice_key: Option<&str>,
) -> anyhow::Result<()> {
    let investors = state.store().investors().map_err(internal)?;
    for other in investors.iter().filter(|i| i.id != id) {
        if wallet_id == Some(other.wallet_id.as_str()) {
            return Err(invalid_params(format!(
                "wallet {} is already the wallet of investor {}",
                other.wallet_id, other.id
            )));
        }
        if invoice_key == Some(other.invoice_key.as_str()) {
            return Err(invalid_params(format!(
                "that invoice key is already the key of investor {}",
                other.id
            )));
        }
    }
    Ok(())
}

/// `revenue-lds-investor-add id wallet_id invoice_key tier`
pub async fn investor_add(plugin: Plugin<Revops>, raw: Value) -> anyhow::Result<Value> {
    let params = Params::parse(
        "revenue-lds-investor-add",
        raw,
        &["id", "wallet_id", "invoice_key", "tier"],
    )?;
    let id = params.required_str("id")?.to_owned();
    let wallet_id = params.required_str("wallet_id")?.to_owned();
    let invoice_key = params.required_str("invoice_key")?.to_owned();
    let tier = tier_of(params.required_str("tier")?)?;
    check_name("investor id", &id)?;
    check_hex32("wallet_id", &wallet_id)?;
    check_hex32("invoice_key", &invoice_key)?;
    let state = plugin.state().clone();
    let runtime = tokio::runtime::Handle::current();
    blocking(move || {
        if state.store().investor(&id).map_err(internal)?.is_some() {
            return Err(invalid_params(format!(
                "investor {id} exists: use revenue-lds-investor-update"
            )));
        }
        check_unshared(&state, &id, Some(&wallet_id), Some(&invoice_key))?;
        let warnings = verify_wallet(&state, &runtime, &wallet_id, &invoice_key)?;
        let joined_at = unix_now();
        let investor = Investor {
            id,
            wallet_id,
            invoice_key,
            tier,
            lock_expiry: lock_expiry(tier, joined_at),
            joined_at,
            removed_at: None,
        };
        state.store().add_investor(&investor).map_err(internal)?;
        tracing::info!(investor = %investor.id, tier = ?investor.tier, "investor added");
        Ok(json!({
            "investor": investor_json(&investor),
            "lock_hint": investor.lock_expiry.map(|expiry| format!(
                "lock the wallet with the LDS Vault until {expiry}: PUT /lds_vault/api/v1/locks/{} {{\"lock_expiry\": {expiry}}} (LNbits admin)",
                investor.wallet_id
            )),
            "warnings": warnings,
        }))
    })
    .await
}

/// `revenue-lds-investor-update id [tier] [invoice_key]`
pub async fn investor_update(plugin: Plugin<Revops>, raw: Value) -> anyhow::Result<Value> {
    let params = Params::parse(
        "revenue-lds-investor-update",
        raw,
        &["id", "tier", "invoice_key"],
    )?;
    let id = params.required_str("id")?.to_owned();
    let tier = params.optional_str("tier")?.map(tier_of).transpose()?;
    let key = params.optional_str("invoice_key")?.map(str::to_owned);
    if let Some(key) = &key {
        check_hex32("invoice_key", key)?;
    }
    let state = plugin.state().clone();
    let runtime = tokio::runtime::Handle::current();
    blocking(move || {
        let mut investor = state
            .store()
            .investor(&id)
            .map_err(internal)?
            .ok_or_else(|| rpc_error(NOT_FOUND, format!("no investor {id}")))?;
        let mut warnings = Vec::new();
        if let Some(key) = key {
            check_unshared(&state, &id, None, Some(&key))?;
            warnings = verify_wallet(&state, &runtime, &investor.wallet_id, &key)?;
            investor.invoice_key = key;
        }
        if let Some(tier) = tier
            && tier != investor.tier
        {
            investor.tier = tier;
            investor.lock_expiry = lock_expiry(tier, unix_now());
        }
        state.store().update_investor(&investor).map_err(internal)?;
        Ok(json!({ "investor": investor_json(&investor), "warnings": warnings }))
    })
    .await
}

/// `revenue-lds-investor-remove id`
pub async fn investor_remove(plugin: Plugin<Revops>, raw: Value) -> anyhow::Result<Value> {
    let params = Params::parse("revenue-lds-investor-remove", raw, &["id"])?;
    let id = params.required_str("id")?.to_owned();
    let state = plugin.state().clone();
    blocking(move || {
        if !state
            .store()
            .remove_investor(&id, unix_now())
            .map_err(internal)?
        {
            return Err(rpc_error(NOT_FOUND, format!("no investor {id}")));
        }
        Ok(json!({ "removed": id }))
    })
    .await
}

/// `revenue-lds-investor-list`: investors with their last balance and 72 h average.
pub async fn investor_list(plugin: Plugin<Revops>, raw: Value) -> anyhow::Result<Value> {
    Params::parse("revenue-lds-investor-list", raw, &[])?;
    let state = plugin.state().clone();
    blocking(move || {
        let store = state.store();
        let at = unix_now();
        let snapshots = store
            .snapshots_since(at.saturating_sub(TWAB_WINDOW_SECS))
            .map_err(internal)?;
        let carry = store.investor_carry().map_err(internal)?;
        let investors: Vec<Value> = store
            .investors()
            .map_err(internal)?
            .iter()
            .map(|investor| {
                let average = twab(&snapshots, &investor.id, at);
                let mut row = investor_json(investor);
                row["last_balance_msat"] = json!(
                    snapshots
                        .last()
                        .and_then(|s| s.balances.get(&investor.id))
                        .map(|b| b.msat())
                );
                row["twab_72h_msat"] = json!(average.average.msat());
                row["twab_covered_secs"] = json!(average.covered_secs);
                // Owed from earlier payouts, paid with their next line that reaches the minimum.
                row["carried_msat"] = json!(carry.get(&investor.id).map_or(0, |c| c.msat()));
                row
            })
            .collect();
        Ok(json!({
            "lds": if state.lnbits.is_some() { "on" } else { "off" },
            "last_snapshot_at": snapshots.last().map(|s| s.at),
            "ledger": to_value(&store.lds_ledger().map_err(internal)?)?,
            "investors": investors,
        }))
    })
    .await
}

/// `revenue-lds-snapshot`: reads every investor balance now.
pub async fn snapshot(plugin: Plugin<Revops>, raw: Value) -> anyhow::Result<Value> {
    Params::parse("revenue-lds-snapshot", raw, &[])?;
    let state = plugin.state().clone();
    let runtime = tokio::runtime::Handle::current();
    blocking(move || {
        let report = state.lds_snapshot_blocking(&runtime).map_err(lds_error)?;
        to_value(&report)
    })
    .await
}

/// `revenue-lds-solvency`: the 85 % check on the node as it is now.
pub async fn solvency(plugin: Plugin<Revops>, raw: Value) -> anyhow::Result<Value> {
    Params::parse("revenue-lds-solvency", raw, &[])?;
    let state = plugin.state().clone();
    let runtime = tokio::runtime::Handle::current();
    blocking(move || {
        let check = state.lds_solvency_blocking(&runtime).map_err(lds_error)?;
        to_value(&check)
    })
    .await
}
