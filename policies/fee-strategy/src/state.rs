//! What the strategy remembers between calls, as versioned little-endian bytes. A blob this
//! version cannot read (another version's, or damaged) yields a fresh state, never an error.

use alloc::vec::Vec;

const NODE_VERSION: u8 = 1;
const CHANNEL_VERSION: u8 = 1;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodeState {
    pub vegas_intensity: f64,
    pub vegas_updated_at: Option<u64>,
    pub spike_readings: u32,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChannelState {
    /// Value-weighted utilisation EMA.
    pub utilisation: f64,
    /// The price on trial this epoch (normal pricing, before multipliers); 0 before the first call.
    pub price_ppm: u32,
    /// The best price found so far, and its revenue per day (msat; negative = not measured).
    pub incumbent_ppm: u32,
    pub step_pct: f64,
    /// +1 searching upwards, −1 downwards.
    pub direction: i8,
    /// Directions tried without improvement at the current step (0..=2).
    pub failures: u8,
    pub epoch_started_at: u64,
    pub epoch_fees_start: u64,
    pub epoch_forwards_start: u64,
    /// Revenue per day of the incumbent, msat; negative = not measured yet.
    pub incumbent_score: f64,
    /// Revenue per day when the search converged; negative = not converged.
    pub converged_score: f64,
    pub epochs_converged: u32,
    pub liquidity_band: u8,
    /// Precedence mode of the last decision (`Mode as u8`).
    pub mode: u8,
    pub inflow_ema: f64,
    pub outflow_ema: f64,
    /// The last two distinct marginal-ROI readings, oldest first.
    pub marginal_roi_bp: [i32; 2],
    pub marginal_roi_readings: u8,
}

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn i32(&mut self, v: i32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn f64(&mut self, v: f64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take::<1>().map(|b| b[0])
    }
    fn u32(&mut self) -> Option<u32> {
        self.take().map(u32::from_le_bytes)
    }
    fn i32(&mut self) -> Option<i32> {
        self.take().map(i32::from_le_bytes)
    }
    fn u64(&mut self) -> Option<u64> {
        self.take().map(u64::from_le_bytes)
    }
    fn f64(&mut self) -> Option<f64> {
        self.take()
            .map(f64::from_le_bytes)
            .filter(|v| v.is_finite())
    }
}

impl NodeState {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer(Vec::with_capacity(32));
        w.u8(NODE_VERSION);
        w.f64(self.vegas_intensity);
        w.u64(self.vegas_updated_at.unwrap_or(0));
        w.u32(self.spike_readings);
        w.0
    }

    /// `None` for an empty, foreign or damaged blob: start fresh.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let mut r = Reader(bytes);
        if r.u8()? != NODE_VERSION {
            return None;
        }
        let state = Self {
            vegas_intensity: r.f64()?.clamp(0.0, 1.0),
            vegas_updated_at: Some(r.u64()?).filter(|&t| t != 0),
            spike_readings: r.u32()?,
        };
        r.0.is_empty().then_some(state)
    }
}

impl ChannelState {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer(Vec::with_capacity(96));
        w.u8(CHANNEL_VERSION);
        w.f64(self.utilisation);
        w.u32(self.price_ppm);
        w.u32(self.incumbent_ppm);
        w.f64(self.step_pct);
        w.u8(self.direction as u8);
        w.u8(self.failures);
        w.u64(self.epoch_started_at);
        w.u64(self.epoch_fees_start);
        w.u64(self.epoch_forwards_start);
        w.f64(self.incumbent_score);
        w.f64(self.converged_score);
        w.u32(self.epochs_converged);
        w.u8(self.liquidity_band);
        w.u8(self.mode);
        w.f64(self.inflow_ema);
        w.f64(self.outflow_ema);
        w.i32(self.marginal_roi_bp[0]);
        w.i32(self.marginal_roi_bp[1]);
        w.u8(self.marginal_roi_readings);
        w.0
    }

    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let mut r = Reader(bytes);
        if r.u8()? != CHANNEL_VERSION {
            return None;
        }
        let state = Self {
            utilisation: r.f64()?.clamp(0.0, 1.0),
            price_ppm: r.u32()?,
            incumbent_ppm: r.u32()?,
            step_pct: r.f64()?,
            direction: r.u8()? as i8,
            failures: r.u8()?,
            epoch_started_at: r.u64()?,
            epoch_fees_start: r.u64()?,
            epoch_forwards_start: r.u64()?,
            incumbent_score: r.f64()?,
            converged_score: r.f64()?,
            epochs_converged: r.u32()?,
            liquidity_band: r.u8()?,
            mode: r.u8()?,
            inflow_ema: r.f64()?,
            outflow_ema: r.f64()?,
            marginal_roi_bp: [r.i32()?, r.i32()?],
            marginal_roi_readings: r.u8()?,
        };
        r.0.is_empty().then_some(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let node = NodeState {
            vegas_intensity: 0.5,
            vegas_updated_at: Some(77),
            spike_readings: 2,
        };
        assert_eq!(NodeState::decode(&node.encode()), Some(node));
        let channel = ChannelState {
            utilisation: 0.3,
            price_ppm: 420,
            step_pct: 12.5,
            direction: -1,
            epoch_started_at: 5,
            incumbent_score: -1.0,
            converged_score: 9.0,
            marginal_roi_bp: [-20, 700],
            marginal_roi_readings: 2,
            ..ChannelState::default()
        };
        assert_eq!(ChannelState::decode(&channel.encode()), Some(channel));
    }

    #[test]
    fn foreign_or_damaged_blobs_start_fresh() {
        assert_eq!(NodeState::decode(&[]), None);
        assert_eq!(NodeState::decode(&[99, 1, 2, 3]), None);
        let mut bytes = ChannelState::default().encode();
        bytes.pop();
        assert_eq!(ChannelState::decode(&bytes), None);
        let mut longer = ChannelState::default().encode();
        longer.push(0);
        assert_eq!(ChannelState::decode(&longer), None);
        let mut nan = NodeState::default().encode();
        nan[1..9].copy_from_slice(&f64::NAN.to_le_bytes());
        assert_eq!(NodeState::decode(&nan), None);
    }
}
