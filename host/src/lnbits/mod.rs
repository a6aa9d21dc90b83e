//! An LNbits client for the Liquidity Dividend System: investor wallet balances, invoices on
//! investor wallets (invoice key only), credits paid from the operator's wallet, and the LDS
//! Vault extension's lock status. Async over HTTP(S), with timeouts; idempotent reads retry
//! with backoff, writes never retry blindly (the payout run reconciles instead).

mod client;
mod error;

pub use client::{Credit, CreditStatus, LnbitsClient, VaultStatus, WalletKey};
pub use error::LnbitsError;
