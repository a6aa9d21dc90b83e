//! The Liquidity Dividend System's arithmetic (spec: LDS): time-weighted balances, the
//! high-water mark, the split of profit between capital and the host's enforcement of a payout.
//! Pure; the LNbits client, the payout run and its RPCs build on this.

pub mod distribution;
pub mod solvency;
pub mod twab;
