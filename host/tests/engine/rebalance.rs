//! The rebalance executor on the simulated node: circular payments, outcomes booked once,
//! pending ones reconciled, nothing sent that should not be.

use super::*;
use revops::{
    money::Msat,
    rebalance::{RebalanceOrder, RebalanceOutcome, execute, reconcile},
    scid::ShortChannelId,
};

fn order(bench: &Bench, from: usize, to: usize, sat: u64, max_fee_sat: u64) -> RebalanceOrder {
    let ids = bench.node.inner.channel_ids();
    RebalanceOrder {
        source: ids[from],
        destination: ids[to],
        amount: Msat::from_sat(sat).unwrap(),
        max_fee: Msat::from_sat(max_fee_sat).unwrap(),
        label: format!("rebalance-{from}-{to}-{sat}"),
    }
}

fn local(bench: &Bench, index: usize) -> Msat {
    bench.node.channels().unwrap()[index].to_us
}

#[test]
fn a_rebalance_moves_liquidity_and_books_the_actual_fee() {
    let mut bench = Bench::new("static", no_params());
    let (before_out, before_in) = (local(&bench, 0), local(&bench, 1));
    let order = order(&bench, 0, 1, 200_000, 1_000);
    let outcome = execute(&mut bench.node, &mut bench.store, &order, 10).unwrap();
    let RebalanceOutcome::Completed { amount, fee } = outcome else {
        panic!("expected completion, got {outcome:?}");
    };
    assert_eq!(amount, order.amount);
    // The peer's fee back to us (1 sat + 10 ppm) and the network's (1 sat + 500 ppm).
    assert_eq!(fee, Msat::new(3_000 + 1_000 + 100_001));
    assert_eq!(
        local(&bench, 0),
        before_out
            .checked_sub(Msat::new(order.amount.msat() + fee.msat()))
            .unwrap()
    );
    assert_eq!(
        local(&bench, 1),
        before_in.checked_add(order.amount).unwrap()
    );
    assert_eq!(bench.store.rebalance_costs_since(0).unwrap(), (fee, 1));
    assert!(bench.store.pending_intents().unwrap().is_empty());
}

#[test]
fn a_route_above_the_cap_sends_nothing() {
    let mut bench = Bench::new("static", no_params());
    let before = local(&bench, 0);
    let capped = order(&bench, 0, 1, 200_000, 10);
    let outcome = execute(&mut bench.node, &mut bench.store, &capped, 10).unwrap();
    assert!(
        matches!(outcome, RebalanceOutcome::NoRoute { .. }),
        "{outcome:?}"
    );
    assert_eq!(local(&bench, 0), before);
    assert_eq!(
        bench.store.rebalance_costs_since(0).unwrap(),
        (Msat::ZERO, 0)
    );
    assert!(bench.store.pending_intents().unwrap().is_empty());
}

#[test]
fn a_failed_payment_is_booked_without_cost() {
    let mut bench = Bench::new("static", no_params());
    let too_much = order(&bench, 2, 1, 1_900_000, 100_000);
    let outcome = execute(&mut bench.node, &mut bench.store, &too_much, 10).unwrap();
    match outcome {
        RebalanceOutcome::Failed { erring_channel, .. } => {
            assert_eq!(erring_channel, Some(too_much.source))
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    assert_eq!(
        bench.store.rebalance_costs_since(0).unwrap(),
        (Msat::ZERO, 0)
    );
}

#[test]
fn nonsense_orders_are_refused() {
    let mut bench = Bench::new("static", no_params());
    let same = order(&bench, 0, 0, 1000, 10);
    assert!(matches!(
        execute(&mut bench.node, &mut bench.store, &same, 1).unwrap(),
        RebalanceOutcome::Refused { .. }
    ));
    let mut unknown = order(&bench, 0, 1, 1000, 10);
    unknown.destination = ShortChannelId::new(1, 2, 3).unwrap();
    assert!(matches!(
        execute(&mut bench.node, &mut bench.store, &unknown, 1).unwrap(),
        RebalanceOutcome::Refused { .. }
    ));
}

#[test]
fn a_pending_payment_is_reconciled_not_resent() {
    let mut bench = Bench::new("static", no_params());
    bench.node.payments_in_flight = true;
    let order = order(&bench, 0, 1, 100_000, 1_000);
    let outcome = execute(&mut bench.node, &mut bench.store, &order, 1).unwrap();
    assert!(
        matches!(outcome, RebalanceOutcome::Pending { .. }),
        "{outcome:?}"
    );
    assert_eq!(bench.store.pending_intents().unwrap().len(), 1);
    // Later (or after a restart) the outcome is read back, not paid again.
    bench.node.payments_in_flight = false;
    let settled = reconcile(&mut bench.node, &mut bench.store).unwrap();
    assert!(
        matches!(settled[..], [RebalanceOutcome::Completed { .. }]),
        "{settled:?}"
    );
    assert!(bench.store.pending_intents().unwrap().is_empty());
    assert_eq!(
        bench.store.rebalance_costs_since(0).unwrap().1,
        1,
        "booked once"
    );
    assert!(
        reconcile(&mut bench.node, &mut bench.store)
            .unwrap()
            .is_empty()
    );
}
