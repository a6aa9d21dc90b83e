//! Investor wallets in memory for the payout tests: invoices by external id, payments counted,
//! and a switch that makes LNbits unreachable.

use super::InvestorVault;
use crate::{
    lnbits::{Credit, CreditStatus, LnbitsError},
    money::Msat,
};
use std::{cell::RefCell, collections::BTreeMap};

#[derive(Default)]
pub struct FakeVault {
    pub invoices: RefCell<BTreeMap<String, Credit>>,
    pub payments: RefCell<u32>,
    pub down: RefCell<bool>,
}

impl InvestorVault for FakeVault {
    fn balance(&self, _: &str) -> Result<Msat, LnbitsError> {
        Ok(Msat::ZERO)
    }
    fn find_credit(&self, _: &str, external_id: &str) -> Result<Option<Credit>, LnbitsError> {
        if *self.down.borrow() {
            return Err(LnbitsError::Unreachable {
                url: "fake".into(),
                reason: "down".into(),
            });
        }
        Ok(self.invoices.borrow().get(external_id).cloned())
    }
    fn create_credit(
        &self,
        _: &str,
        amount: Msat,
        _: &str,
        external_id: &str,
    ) -> Result<Credit, LnbitsError> {
        let credit = Credit {
            payment_hash: format!("hash-{external_id}"),
            bolt11: format!("lnbc-{external_id}"),
            amount,
            status: CreditStatus::Pending,
        };
        self.invoices
            .borrow_mut()
            .insert(external_id.to_owned(), credit.clone());
        Ok(credit)
    }
    fn pay_credit(&self, bolt11: &str) -> Option<Result<(), LnbitsError>> {
        let mut invoices = self.invoices.borrow_mut();
        let credit = invoices.values_mut().find(|c| c.bolt11 == bolt11).unwrap();
        if credit.status == CreditStatus::Success {
            return Some(Err(LnbitsError::Refused {
                what: "pay".into(),
                status: 520,
                detail: "Internal invoice already paid.".into(),
            }));
        }
        credit.status = CreditStatus::Success;
        *self.payments.borrow_mut() += 1;
        Some(Ok(()))
    }
}
