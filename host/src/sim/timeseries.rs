//! Every channel, every simulated hour: what the fee policy set and what the market did, for
//! `timeseries.csv`. Sampled from state the run keeps anyway (the network's fees and balances,
//! the flow tracker's all-time totals, the cycle's outcomes), so it costs no query.

use crate::{
    analytics::FlowTracker, cycle::FeeCycleReport, guards::fee::FeeVerdict, model::PricingMode,
    scid::ShortChannelId,
};
use std::{collections::HashMap, io::Write};

/// The CSV header, one column per `HourRow` field plus the policy and scenario.
pub const CSV_HEADER: &str = "scenario,seed,policy,at_secs,hour,channel,label,fee_ppm,local_share,mode,forwards,failed_forwards,revenue_msat,broadcasts";

/// One channel over one hour ending at `at_secs`.
#[derive(Clone, Debug, PartialEq)]
pub struct HourRow {
    pub at_secs: u64,
    pub channel: usize,
    /// The fee on the channel at `at_secs`.
    pub fee_ppm: u32,
    pub local_share: f64,
    /// The mode of the policy's latest proposal for the channel (none proposed yet: empty).
    pub mode: Option<PricingMode>,
    /// Settled forwards out of the channel in the hour, and their fees.
    pub forwards: u64,
    pub revenue_msat: u64,
    /// Forwards the channel could not make in the hour (`local_failed`).
    pub failed_forwards: u64,
    /// Fee broadcasts on the channel in the hour.
    pub broadcasts: u32,
}

/// A run's hourly rows, in time then channel order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeseries {
    pub start_secs: u64,
    pub channels: Vec<(ShortChannelId, String)>,
    pub rows: Vec<HourRow>,
}

/// Builds a `Timeseries` as the run goes: `observe` after every fee cycle, `sample` at every
/// hour boundary.
pub(super) struct HourlySampler {
    index: HashMap<ShortChannelId, usize>,
    modes: Vec<Option<PricingMode>>,
    broadcasts: Vec<u32>,
    /// Flow totals at the previous sample, per channel.
    last: Vec<crate::analytics::FlowTotals>,
    series: Timeseries,
}

impl HourlySampler {
    pub fn new(start_secs: u64, channels: Vec<(ShortChannelId, String)>) -> Self {
        let count = channels.len();
        Self {
            index: channels
                .iter()
                .enumerate()
                .map(|(i, (id, _))| (*id, i))
                .collect(),
            modes: vec![None; count],
            broadcasts: vec![0; count],
            last: vec![Default::default(); count],
            series: Timeseries {
                start_secs,
                channels,
                rows: Vec::new(),
            },
        }
    }

    /// Whether `now` lies in a later simulated hour than the last sample (the first hour is
    /// complete only at its end).
    pub fn hour_passed(&self, now: u64) -> bool {
        let hour = now.saturating_sub(self.series.start_secs) / 3600;
        let last = self.series.rows.last().map_or(0, |r| {
            r.at_secs.saturating_sub(self.series.start_secs) / 3600
        });
        hour > last
    }

    /// Notes each channel's latest mode and the broadcasts the cycle made.
    pub fn observe(&mut self, report: &FeeCycleReport) {
        for outcome in &report.outcomes {
            let Some(&i) = self.index.get(&outcome.proposal.channel) else {
                continue;
            };
            self.modes[i] = Some(outcome.proposal.mode);
            if matches!(outcome.verdict, FeeVerdict::Apply { .. }) && outcome.error.is_none() {
                self.broadcasts[i] += 1;
            }
        }
    }

    /// One row per channel for the hour ending at `at_secs`.
    pub fn sample(&mut self, at_secs: u64, fees: &[u32], shares: &[f64], flows: &FlowTracker) {
        for (i, (id, _)) in self.series.channels.iter().enumerate() {
            let totals = flows.totals(*id);
            let last = std::mem::replace(&mut self.last[i], totals);
            self.series.rows.push(HourRow {
                at_secs,
                channel: i,
                fee_ppm: fees.get(i).copied().unwrap_or(0),
                local_share: shares.get(i).copied().unwrap_or(0.0),
                mode: self.modes[i],
                forwards: totals.forwards_out - last.forwards_out,
                revenue_msat: totals.fees_earned.msat() - last.fees_earned.msat(),
                failed_forwards: totals.failed_out - last.failed_out,
                broadcasts: std::mem::take(&mut self.broadcasts[i]),
            });
        }
    }

    pub fn finish(self) -> Timeseries {
        self.series
    }
}

impl Timeseries {
    /// Appends this run's rows as CSV (no header: `CSV_HEADER` goes once per file).
    pub fn write_csv(
        &self,
        out: &mut dyn Write,
        scenario: &str,
        seed: u64,
        policy: &str,
    ) -> std::io::Result<()> {
        let (scenario, policy) = (csv_field(scenario), csv_field(policy));
        for row in &self.rows {
            let (id, label) = &self.series_channel(row.channel);
            writeln!(
                out,
                "{scenario},{seed},{policy},{},{},{id},{},{},{:.4},{},{},{},{},{}",
                row.at_secs,
                row.at_secs.saturating_sub(self.start_secs) / 3600,
                csv_field(label),
                row.fee_ppm,
                row.local_share,
                row.mode.map_or("", PricingMode::as_str),
                row.forwards,
                row.failed_forwards,
                row.revenue_msat,
                row.broadcasts
            )?;
        }
        Ok(())
    }

    fn series_channel(&self, index: usize) -> (String, &str) {
        let (id, label) = &self.channels[index];
        (id.to_string(), label)
    }
}

/// Quotes a CSV field when it needs it (RFC 4180).
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_with_commas_or_quotes_are_quoted() {
        assert_eq!(csv_field("static"), "static");
        assert_eq!(csv_field("a (x=1, y=2)"), "\"a (x=1, y=2)\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn rows_are_written_with_hours_from_the_start() {
        let id = ShortChannelId::new(800_000, 1, 0).unwrap();
        let series = Timeseries {
            start_secs: 1000,
            channels: vec![(id, "sink-0".into())],
            rows: vec![HourRow {
                at_secs: 1000 + 7200,
                channel: 0,
                fee_ppm: 250,
                local_share: 0.5,
                mode: Some(PricingMode::Normal),
                forwards: 3,
                revenue_msat: 1500,
                failed_forwards: 1,
                broadcasts: 1,
            }],
        };
        let mut out = Vec::new();
        series.write_csv(&mut out, "default", 7, "static").unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            format!("default,7,static,8200,2,{id},sink-0,250,0.5000,normal,3,1,1500,1\n")
        );
        assert_eq!(
            CSV_HEADER.split(',').count(),
            text.trim().split(',').count()
        );
    }
}
