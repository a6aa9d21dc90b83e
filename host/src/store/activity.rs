//! Per-channel totals over windows, straight from the ledgers, for profitability: what each
//! channel forwarded and earned, and what rebalancing into it cost. One pass per ledger side
//! covers every window (the longest window bounds the scan).

use super::{Store, StoreResult, from_sql_u64, to_sql_u64};
use crate::{money::Msat, scid::ShortChannelId};
use rusqlite::Row;
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

pub type ActivityWindow = BTreeMap<ShortChannelId, ChannelActivity>;

impl Store {
    /// Activity of every channel that forwarded or was rebalanced into since `since_secs`.
    pub fn channel_activity_since(&self, since_secs: u64) -> StoreResult<ActivityWindow> {
        let [window] = self.channel_activity_windows([since_secs])?;
        Ok(window)
    }

    /// `channel_activity_since` for several starts at once, in one scan of each ledger side.
    pub fn channel_activity_windows<const N: usize>(
        &self,
        since_secs: [u64; N],
    ) -> StoreResult<[ActivityWindow; N]> {
        let mut windows: [ActivityWindow; N] = std::array::from_fn(|_| BTreeMap::new());
        let earliest = since_secs.iter().copied().min().unwrap_or(0);
        let earliest_ms = to_sql_u64(earliest.saturating_mul(1000));
        for outgoing in [true, false] {
            let sql = if outgoing {
                "SELECT out_channel, resolved_ms, out_msat, fee_msat FROM forwards
                 WHERE status = 'settled' AND resolved_ms >= ?1 AND out_channel IS NOT NULL"
            } else {
                "SELECT in_channel, resolved_ms, in_msat, fee_msat FROM forwards
                 WHERE status = 'settled' AND resolved_ms >= ?1"
            };
            let mut statement = self.conn.prepare_cached(sql)?;
            let mut rows = statement.query([earliest_ms])?;
            while let Some(row) = rows.next()? {
                let (channel, at_ms, volume, fees) = forward_row(row)?;
                for (window, since) in windows.iter_mut().zip(since_secs) {
                    if at_ms < since.saturating_mul(1000) {
                        continue;
                    }
                    let entry = window.entry(channel).or_default();
                    if outgoing {
                        entry.forwards_out += 1;
                        entry.out_volume = entry.out_volume.saturating_add(volume);
                        entry.fees_earned = entry.fees_earned.saturating_add(fees);
                    } else {
                        entry.forwards_in += 1;
                        entry.in_volume = entry.in_volume.saturating_add(volume);
                        entry.sourced_fees = entry.sourced_fees.saturating_add(fees);
                    }
                    entry.last_forward_ms = entry.last_forward_ms.max(Some(at_ms));
                }
            }
        }
        let mut statement = self.conn.prepare_cached(
            "SELECT destination, at, fee_msat, CASE WHEN completed THEN amount_msat ELSE 0 END
             FROM rebalances WHERE at >= ?1",
        )?;
        let mut rows = statement.query([to_sql_u64(earliest)])?;
        while let Some(row) = rows.next()? {
            let channel = ShortChannelId::from_u64(from_sql_u64(row.get(0)?)?);
            let at = from_sql_u64(row.get(1)?)?;
            let fee = Msat::new(from_sql_u64(row.get(2)?)?);
            let amount = Msat::new(from_sql_u64(row.get(3)?)?);
            for (window, since) in windows.iter_mut().zip(since_secs) {
                if at >= since {
                    let entry = window.entry(channel).or_default();
                    entry.rebalance_fees = entry.rebalance_fees.saturating_add(fee);
                    entry.rebalanced_in = entry.rebalanced_in.saturating_add(amount);
                }
            }
        }
        Ok(windows)
    }
}

/// (channel, resolved at ms, amount, fee) of one settled forward.
fn forward_row(row: &Row<'_>) -> StoreResult<(ShortChannelId, u64, Msat, Msat)> {
    let optional = |value: Option<i64>| -> StoreResult<Msat> {
        Ok(Msat::new(value.map(from_sql_u64).transpose()?.unwrap_or(0)))
    };
    Ok((
        ShortChannelId::from_u64(from_sql_u64(row.get(0)?)?),
        from_sql_u64(row.get::<_, Option<i64>>(1)?.unwrap_or(0))?,
        optional(row.get(2)?)?,
        optional(row.get(3)?)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        node::{Forward, ForwardStatus},
        store::RebalanceRecord,
    };

    const DAY_MS: u64 = 86_400_000;

    fn settled(index: u64, resolved_ms: u64, fee: u64) -> Forward {
        Forward {
            created_index: index,
            updated_index: Some(index),
            in_channel: "103x1x0".parse().unwrap(),
            out_channel: Some("103x2x0".parse().unwrap()),
            in_amount: Msat::new(1_000_000 + fee),
            out_amount: Some(Msat::new(1_000_000)),
            fee: Some(Msat::new(fee)),
            status: ForwardStatus::Settled,
            received_ms: resolved_ms - 5,
            resolved_ms: Some(resolved_ms),
            failure: None,
        }
    }

    #[test]
    fn each_window_counts_only_what_falls_inside_it() {
        let mut store = Store::open_in_memory().unwrap();
        let now_ms = 40 * DAY_MS;
        // Half a day, three days and twenty days ago; and one older than every window.
        store
            .ingest_forwards(
                &[
                    settled(1, now_ms - DAY_MS / 2, 100),
                    settled(2, now_ms - 3 * DAY_MS, 200),
                    settled(3, now_ms - 20 * DAY_MS, 400),
                    settled(4, now_ms - 35 * DAY_MS, 800),
                ],
                crate::store::ForwardIndex::Updated,
            )
            .unwrap();
        store
            .record_rebalance(&RebalanceRecord {
                source: "103x1x0".parse().unwrap(),
                destination: "103x2x0".parse().unwrap(),
                amount: Msat::new(50_000_000),
                fee: Msat::new(30),
                completed: true,
                payment_hash: "00".repeat(32),
                at: now_ms / 1000 - 2 * 86_400,
                kind: crate::model::RebalanceKind::Normal,
                sent: true,
                failure: None,
            })
            .unwrap();
        let now = now_ms / 1000;
        let [day, week, month] = store
            .channel_activity_windows([now - 86_400, now - 7 * 86_400, now - 30 * 86_400])
            .unwrap();
        let out: ShortChannelId = "103x2x0".parse().unwrap();
        let into: ShortChannelId = "103x1x0".parse().unwrap();
        assert_eq!(day[&out].fees_earned, Msat::new(100));
        assert_eq!(week[&out].fees_earned, Msat::new(300));
        assert_eq!(month[&out].fees_earned, Msat::new(700));
        assert_eq!(month[&out].forwards_out, 3);
        assert_eq!(month[&into].sourced_fees, Msat::new(700));
        assert_eq!(month[&into].forwards_in, 3);
        assert_eq!(month[&into].fees_earned, Msat::ZERO, "fees counted once");
        assert_eq!(month[&out].last_forward_ms, Some(now_ms - DAY_MS / 2));
        assert_eq!(
            day[&out].rebalance_fees,
            Msat::ZERO,
            "rebalanced 2 days ago"
        );
        assert_eq!(week[&out].rebalance_fees, Msat::new(30));
        assert_eq!(week[&out].rebalanced_in, Msat::new(50_000_000));
        assert_eq!(
            store.channel_activity_since(now - 7 * 86_400).unwrap(),
            week
        );
    }
}
