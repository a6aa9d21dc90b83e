//! End-to-end tests of the `revops` binary.

mod policy_check;
mod simulate;
