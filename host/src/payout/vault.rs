//! Where investor wallets live, as the payout code needs it: synchronous (payout work runs on a
//! worker thread), implemented over the async LNbits client.

use crate::{
    lnbits::{Credit, LnbitsClient, LnbitsError},
    money::Msat,
};
use tokio::runtime::Handle;

pub trait InvestorVault {
    fn balance(&self, invoice_key: &str) -> Result<Msat, LnbitsError>;
    /// The invoice tagged `external_id` on the wallet, if revops made one already.
    fn find_credit(
        &self,
        invoice_key: &str,
        external_id: &str,
    ) -> Result<Option<Credit>, LnbitsError>;
    fn create_credit(
        &self,
        invoice_key: &str,
        amount: Msat,
        memo: &str,
        external_id: &str,
    ) -> Result<Credit, LnbitsError>;
    /// Pays an investor's invoice from the operator's wallet; `None` when there is no payer.
    fn pay_credit(&self, bolt11: &str) -> Option<Result<(), LnbitsError>>;
}

/// LNbits, reached from a worker thread through the plugin's runtime.
pub struct LnbitsVault {
    pub client: LnbitsClient,
    pub runtime: Handle,
    /// Admin key of the operator's distribution wallet (the only spending key revops holds).
    pub operator_key: Option<String>,
}

impl InvestorVault for LnbitsVault {
    /// Refuses a key that can spend: an investor's key is an invoice key, whatever an older
    /// version stored.
    fn balance(&self, invoice_key: &str) -> Result<Msat, LnbitsError> {
        let key = self.runtime.block_on(self.client.wallet_key(invoice_key))?;
        match key.admin_of {
            Some(wallet_id) => Err(LnbitsError::SpendingKey { wallet_id }),
            None => Ok(key.balance),
        }
    }

    fn find_credit(
        &self,
        invoice_key: &str,
        external_id: &str,
    ) -> Result<Option<Credit>, LnbitsError> {
        self.runtime
            .block_on(self.client.find_credit(invoice_key, external_id))
    }

    fn create_credit(
        &self,
        invoice_key: &str,
        amount: Msat,
        memo: &str,
        external_id: &str,
    ) -> Result<Credit, LnbitsError> {
        self.runtime.block_on(
            self.client
                .create_credit(invoice_key, amount, memo, external_id),
        )
    }

    fn pay_credit(&self, bolt11: &str) -> Option<Result<(), LnbitsError>> {
        let key = self.operator_key.as_deref()?;
        Some(
            self.runtime
                .block_on(self.client.pay(key, bolt11))
                .map(drop),
        )
    }
}
