//! Per-channel totals over a window, straight from the ledgers, for profitability: what each
//! channel forwarded and earned, and what rebalancing into it cost.

use super::{Store, StoreResult, from_sql_u64, to_sql_u64};
use crate::{money::Msat, scid::ShortChannelId};
use std::collections::BTreeMap;

/// One channel's activity since some time. Fees are counted once, on the outgoing channel;
/// the incoming side's share is reported as `sourced_fees`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChannelActivity {
    pub forwards_out: u64,
    pub forwards_in: u64,
    pub out_volume: Msat,
    pub in_volume: Msat,
    pub fees_earned: Msat,
    pub sourced_fees: Msat,
    pub rebalance_fees: Msat,
    pub rebalanced_in: Msat,
    pub last_forward_ms: Option<u64>,
}

impl Store {
    /// Activity of every channel that forwarded or was rebalanced into since `since_secs`.
    pub fn channel_activity_since(
        &self,
        since_secs: u64,
    ) -> StoreResult<BTreeMap<ShortChannelId, ChannelActivity>> {
        let mut by_channel: BTreeMap<ShortChannelId, ChannelActivity> = BTreeMap::new();
        let since_ms = to_sql_u64(since_secs.saturating_mul(1000));
        let mut outgoing = self.conn.prepare_cached(
            "SELECT out_channel, COUNT(*), SUM(out_msat), SUM(fee_msat), MAX(resolved_ms)
             FROM forwards
             WHERE status = 'settled' AND resolved_ms >= ?1 AND out_channel IS NOT NULL
             GROUP BY out_channel",
        )?;
        let rows = outgoing.query_map([since_ms], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, Option<i64>>(2)?,
                row.get::<_, Option<i64>>(3)?,
                row.get::<_, Option<i64>>(4)?,
            ))
        })?;
        for row in rows {
            let (channel, count, volume, fees, last) = row?;
            let entry = by_channel.entry(scid(channel)?).or_default();
            entry.forwards_out = from_sql_u64(count)?;
            entry.out_volume = msat(volume)?;
            entry.fees_earned = msat(fees)?;
            entry.last_forward_ms = latest(entry.last_forward_ms, last)?;
        }
        let mut incoming = self.conn.prepare_cached(
            "SELECT in_channel, COUNT(*), SUM(in_msat), SUM(fee_msat), MAX(resolved_ms)
             FROM forwards
             WHERE status = 'settled' AND resolved_ms >= ?1
             GROUP BY in_channel",
        )?;
        let rows = incoming.query_map([since_ms], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, Option<i64>>(2)?,
                row.get::<_, Option<i64>>(3)?,
                row.get::<_, Option<i64>>(4)?,
            ))
        })?;
        for row in rows {
            let (channel, count, volume, fees, last) = row?;
            let entry = by_channel.entry(scid(channel)?).or_default();
            entry.forwards_in = from_sql_u64(count)?;
            entry.in_volume = msat(volume)?;
            entry.sourced_fees = msat(fees)?;
            entry.last_forward_ms = latest(entry.last_forward_ms, last)?;
        }
        let mut rebalances = self.conn.prepare_cached(
            "SELECT destination, SUM(fee_msat), SUM(CASE WHEN completed THEN amount_msat END)
             FROM rebalances WHERE at >= ?1
             GROUP BY destination",
        )?;
        let rows = rebalances.query_map([to_sql_u64(since_secs)], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, Option<i64>>(1)?,
                row.get::<_, Option<i64>>(2)?,
            ))
        })?;
        for row in rows {
            let (channel, fees, amount) = row?;
            let entry = by_channel.entry(scid(channel)?).or_default();
            entry.rebalance_fees = msat(fees)?;
            entry.rebalanced_in = msat(amount)?;
        }
        Ok(by_channel)
    }
}

fn scid(raw: i64) -> StoreResult<ShortChannelId> {
    Ok(ShortChannelId::from_u64(from_sql_u64(raw)?))
}

fn msat(raw: Option<i64>) -> StoreResult<Msat> {
    Ok(Msat::new(raw.map(from_sql_u64).transpose()?.unwrap_or(0)))
}

fn latest(current: Option<u64>, raw: Option<i64>) -> StoreResult<Option<u64>> {
    let candidate = raw.map(from_sql_u64).transpose()?;
    Ok(current.max(candidate))
}
