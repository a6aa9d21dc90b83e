//! Spend pacing (issue 14): rebalance fees stay within a share of what the node earned. The
//! host says what moves actually paid over the last 7 days (`spent-7d-msat`, in-flight caps
//! included); the snapshot's flow says what the channels earned in those 7 days.

/// What may still be spent this cycle: `share_pct` % of the week's revenue, less the week's
/// spending.
pub fn allowance(revenue_7d_msat: u64, share_pct: u64, spent_7d_msat: u64) -> u64 {
    (revenue_7d_msat / 100)
        .saturating_mul(share_pct)
        .saturating_sub(spent_7d_msat)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_allowance_is_a_share_of_revenue_less_spending() {
        assert_eq!(allowance(1_000_000, 30, 0), 300_000);
        assert_eq!(allowance(1_000_000, 30, 250_000), 50_000);
        assert_eq!(allowance(1_000_000, 30, 400_000), 0);
        assert_eq!(allowance(0, 30, 0), 0, "no revenue, no spending");
    }
}
