//! The Liquidity Dividend System against a real LNbits 1.6.2 (installed from PyPI into
//! `target/lnbits-venv` by `lnbits/scripts/setup-venv.sh`, FakeWallet, SQLite, 127.0.0.1).

mod crash;
mod investors;
mod payouts;
mod periods;
mod vault_extension;
