//! The simulator: a simulated node (`SimNetwork`, implementing `Node`) driven through the very
//! same decision cycle production runs, over simulated time. Deterministic from the scenario's
//! seed. Used by `revops simulate` to compare policies before trusting one with real channels.

mod competitors;
mod demand;
mod demand_spec;
pub mod families;
mod feerate;
mod floods;
mod forward_book;
mod gossip;
mod gossip_delay;
mod lifecycle;
mod market;
mod network;
mod node_ids;
mod node_view;
mod payments;
mod report;
mod routes;
mod run;
pub mod scenario;
mod scope;
mod sender_memory;
mod timeseries;

pub use floods::{FloodEvent, Hold};
pub use lifecycle::PeerOffline;
pub use network::{MarketStats, SimNetwork};
pub use report::{ChannelSummary, DefibrillatorSummary, Series, SimReport, TrackedChannel};
pub use routes::RouteMarket;
pub use run::{PolicyUnderTest, SimError, SimOptions, SimRun, simulate, simulate_with};
pub use scenario::{Scenario, ScenarioError};
pub use timeseries::{CSV_HEADER, HourRow, Timeseries};
