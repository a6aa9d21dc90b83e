//! What can go wrong talking to LNbits, kept apart so callers can say "LNbits is down" (retry
//! later, nothing was done) from "LNbits refused" (a real answer).

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LnbitsError {
    #[error("LNbits URL {url:?} is not usable: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("LNbits at {url} is unreachable: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("LNbits answered {status} to {what}: {detail}")]
    Refused {
        what: String,
        status: u16,
        detail: String,
    },
    #[error("LNbits sent an answer to {what} revops cannot read: {reason}")]
    Malformed { what: String, reason: String },
    /// An investor's stored key turned out to be an admin key (stored by a version that did
    /// not check): revops does not use it.
    #[error(
        "an investor's stored key can spend from wallet {wallet_id}: replace it with the \
         wallet's invoice key (revenue-lds-investor-update)"
    )]
    SpendingKey { wallet_id: String },
}

impl LnbitsError {
    /// Nothing reached LNbits, or it failed on its side: the same call may work later.
    pub fn is_transient(&self) -> bool {
        match self {
            LnbitsError::Unreachable { .. } => true,
            LnbitsError::Refused { status, .. } => *status >= 500 && *status != 520,
            _ => false,
        }
    }
}
