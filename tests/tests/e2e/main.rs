//! End-to-end tests of the `revops` binary.

mod crash_fee;
mod crash_rebalance;
mod payments;
mod plugin_fees;
mod plugin_lifecycle;
mod plugin_policy_restart;
mod plugin_profitability;
mod plugin_real_node;
mod plugin_rebalance;
mod plugin_surface;
mod policy_check;
mod policy_new;
mod rpc_fuzz;
mod scenario;
mod schema_conformance;
mod simulate;
