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
