//! The HTTP calls, shaped after LNbits 1.6's REST API (`/api/v1/wallet`, `/api/v1/payments`,
//! the LDS Vault's `/lds_vault/api/v1/status`). Amounts LNbits *takes* are in sat; amounts
//! it *reports* are in msat.

use super::LnbitsError;
use crate::money::Msat;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::Duration;

/// Tries of an idempotent read before giving up; the wait doubles from `FIRST_BACKOFF`.
const READ_ATTEMPTS: u32 = 3;
const FIRST_BACKOFF: Duration = Duration::from_millis(250);

#[derive(Clone, Debug)]
pub struct LnbitsClient {
    http: reqwest::Client,
    base: String,
}

/// An invoice on an investor's wallet that carries one payout line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Credit {
    pub payment_hash: String,
    pub bolt11: String,
    pub amount: Msat,
    pub status: CreditStatus,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CreditStatus {
    Pending,
    Success,
    Failed,
}

/// One wallet key as LNbits answers for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalletKey {
    pub balance: Msat,
    /// The wallet's id when the key is its admin key (a key that can spend); `None` for an
    /// invoice key.
    pub admin_of: Option<String>,
}

/// The LDS Vault's view of one wallet (`GET /lds_vault/api/v1/status` with its invoice key).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct VaultStatus {
    pub wallet_id: String,
    pub locked: bool,
    pub lock_expiry: Option<u64>,
}

#[derive(Deserialize)]
struct PaymentRow {
    payment_hash: String,
    bolt11: String,
    amount: i64,
    status: String,
}

impl LnbitsClient {
    /// `base_url` like `https://lnbits.example:5000`; `timeout` bounds every call.
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, LnbitsError> {
        let base = base_url.trim_end_matches('/').to_owned();
        let bad = |reason: &str| LnbitsError::BadUrl {
            url: base_url.to_owned(),
            reason: reason.to_owned(),
        };
        let parsed = reqwest::Url::parse(&base).map_err(|e| bad(&e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(bad("only http:// and https:// are supported"));
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| bad(&e.to_string()))?;
        Ok(Self { http, base })
    }

    pub fn url(&self) -> &str {
        &self.base
    }

    /// A wallet's balance, with any of its keys.
    pub async fn wallet_balance(&self, key: &str) -> Result<Msat, LnbitsError> {
        Ok(self.wallet_key(key).await?.balance)
    }

    /// What LNbits tells of `key` (`GET /api/v1/wallet`): its wallet's balance, and whether it
    /// can spend — LNbits 1.6 shows the wallet id to that wallet's admin key only.
    pub async fn wallet_key(&self, key: &str) -> Result<WalletKey, LnbitsError> {
        let what = "GET /api/v1/wallet";
        let body = self.read(what, "/api/v1/wallet", key).await?;
        let balance = body["balance"]
            .as_i64()
            .ok_or_else(|| malformed(what, &body))?;
        let admin_of = match body.get("id") {
            None => None,
            Some(Value::String(id)) => Some(id.clone()),
            Some(_) => return Err(malformed(what, &body)),
        };
        Ok(WalletKey {
            balance: Msat::new(u64::try_from(balance).unwrap_or(0)),
            admin_of,
        })
    }

    /// The LDS Vault's lock status of the wallet behind `invoice_key` (also tells its id).
    pub async fn vault_status(&self, invoice_key: &str) -> Result<VaultStatus, LnbitsError> {
        let what = "GET /lds_vault/api/v1/status";
        let body = self
            .read(what, "/lds_vault/api/v1/status", invoice_key)
            .await?;
        serde_json::from_value(body.clone()).map_err(|_| malformed(what, &body))
    }

    /// The invoice carrying `external_id` on the wallet of `invoice_key`, if one exists.
    pub async fn find_credit(
        &self,
        invoice_key: &str,
        external_id: &str,
    ) -> Result<Option<Credit>, LnbitsError> {
        let what = "GET /api/v1/payments?external_id";
        let path = format!(
            "/api/v1/payments?external_id={}",
            url_component(external_id)
        );
        let body = self.read(what, &path, invoice_key).await?;
        let rows: Vec<PaymentRow> =
            serde_json::from_value(body.clone()).map_err(|_| malformed(what, &body))?;
        // Incoming rows only (positive amounts): the invoice revops made.
        Ok(rows.into_iter().find(|row| row.amount > 0).map(credit_of))
    }

    /// Creates an invoice for `amount` (whole sat) on the wallet of `invoice_key`, tagged with
    /// `external_id` so that a rerun finds it instead of making another.
    pub async fn create_credit(
        &self,
        invoice_key: &str,
        amount: Msat,
        memo: &str,
        external_id: &str,
    ) -> Result<Credit, LnbitsError> {
        let what = "POST /api/v1/payments (invoice)";
        let body = json!({
            "out": false,
            "amount": amount.sat_floor(),
            "unit": "sat",
            "memo": memo,
            "external_id": external_id,
            "extra": { "revops": "lds-payout" },
        });
        let answer = self
            .send(what, "/api/v1/payments", invoice_key, &body)
            .await?;
        let hash = answer["payment_hash"].as_str();
        let bolt11 = answer["bolt11"]
            .as_str()
            .or_else(|| answer["payment_request"].as_str());
        match (hash, bolt11) {
            (Some(hash), Some(bolt11)) => Ok(Credit {
                payment_hash: hash.to_owned(),
                bolt11: bolt11.to_owned(),
                amount: Msat::from_sat(amount.sat_floor()).unwrap_or(amount),
                status: CreditStatus::Pending,
            }),
            _ => Err(malformed(what, &answer)),
        }
    }

    /// Pays `bolt11` from the wallet of `admin_key` (the operator's distribution wallet).
    pub async fn pay(&self, admin_key: &str, bolt11: &str) -> Result<CreditStatus, LnbitsError> {
        let what = "POST /api/v1/payments (pay)";
        let body = json!({ "out": true, "bolt11": bolt11 });
        let answer = self
            .send(what, "/api/v1/payments", admin_key, &body)
            .await?;
        Ok(status_of(answer["status"].as_str().unwrap_or("pending")))
    }

    async fn read(&self, what: &str, path: &str, key: &str) -> Result<Value, LnbitsError> {
        let mut wait = FIRST_BACKOFF;
        let mut attempt = 1;
        loop {
            let sent = self
                .http
                .get(format!("{}{path}", self.base))
                .header("X-Api-Key", key)
                .send()
                .await;
            match self.answer(what, sent).await {
                Err(error) if error.is_transient() && attempt < READ_ATTEMPTS => {
                    tracing::debug!(%error, attempt, "LNbits read failed; retrying");
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn send(
        &self,
        what: &str,
        path: &str,
        key: &str,
        body: &Value,
    ) -> Result<Value, LnbitsError> {
        let sent = self
            .http
            .post(format!("{}{path}", self.base))
            .header("X-Api-Key", key)
            .json(body)
            .send()
            .await;
        self.answer(what, sent).await
    }

    async fn answer(
        &self,
        what: &str,
        sent: Result<reqwest::Response, reqwest::Error>,
    ) -> Result<Value, LnbitsError> {
        let response = sent.map_err(|e| LnbitsError::Unreachable {
            url: self.base.clone(),
            reason: without_url(&e),
        })?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| LnbitsError::Unreachable {
                url: self.base.clone(),
                reason: without_url(&e),
            })?;
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if status.is_success() {
            return Ok(body);
        }
        let detail = body["detail"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| truncate(&body.to_string(), 300));
        Err(LnbitsError::Refused {
            what: what.to_owned(),
            status: status.as_u16(),
            detail,
        })
    }
}

fn credit_of(row: PaymentRow) -> Credit {
    Credit {
        payment_hash: row.payment_hash,
        bolt11: row.bolt11,
        amount: Msat::new(u64::try_from(row.amount).unwrap_or(0)),
        status: status_of(&row.status),
    }
}

fn status_of(status: &str) -> CreditStatus {
    match status {
        "success" => CreditStatus::Success,
        "failed" => CreditStatus::Failed,
        _ => CreditStatus::Pending,
    }
}

fn malformed(what: &str, body: &Value) -> LnbitsError {
    LnbitsError::Malformed {
        what: what.to_owned(),
        reason: truncate(&body.to_string(), 300),
    }
}

/// reqwest's messages repeat the URL, which may carry a key in a query: keep the cause only.
fn without_url(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut cause = String::new();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        cause = inner.to_string();
        source = inner.source();
    }
    if cause.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {cause}")
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn url_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_up_front() {
        let timeout = Duration::from_secs(1);
        assert!(LnbitsClient::new("http://127.0.0.1:5000/", timeout).is_ok());
        assert!(matches!(
            LnbitsClient::new("ftp://x", timeout),
            Err(LnbitsError::BadUrl { .. })
        ));
        assert!(matches!(
            LnbitsClient::new("not a url", timeout),
            Err(LnbitsError::BadUrl { .. })
        ));
    }

    #[test]
    fn external_ids_are_encoded() {
        assert_eq!(
            url_component("revops-lds-2026-11-alice"),
            "revops-lds-2026-11-alice"
        );
        assert_eq!(url_component("a b&c"), "a%20b%26c");
    }

    #[test]
    fn a_closed_port_is_unreachable_and_transient() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let client =
            LnbitsClient::new(&format!("http://127.0.0.1:{port}"), Duration::from_secs(2)).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let error = runtime.block_on(client.wallet_balance("key")).unwrap_err();
        assert!(matches!(error, LnbitsError::Unreachable { .. }), "{error}");
        assert!(error.is_transient());
    }
}
