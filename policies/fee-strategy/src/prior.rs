//! Where a fresh price search starts.

use crate::decide::ChannelInput;

/// Forwards in a week that say the channel's own fee sells.
const SELLING_FORWARDS_7D: u32 = 7;

/// Where a fresh price search starts (issue 14: starting from whatever fee the channel had
/// cost days of learning): the market's price for reaching this peer — the median fee of the
/// competing channels — blended (geometric mean) with the channel's own fee where that fee
/// has been selling, since its history says something the market median does not. Without
/// gossip, the channel's own fee. The liquidity band shapes the price from there.
pub fn prior_ppm(channel: &ChannelInput) -> u32 {
    match channel.competitor_median_ppm {
        None | Some(0) => channel.fee_ppm,
        Some(median) if channel.flow.forwards_out_7d >= SELLING_FORWARDS_7D => {
            let own = f64::from(channel.fee_ppm.max(1));
            libm::round(libm::sqrt(own * f64::from(median))) as u32
        }
        Some(median) => median,
    }
}
