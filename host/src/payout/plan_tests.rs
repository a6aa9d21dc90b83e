//! Payout planning over more than one period, with the shipped payout policy in real wasmtime
//! on the simulated node: what one run carries is owed to the investor it was computed for.

use super::{PayoutPlan, fake_vault::FakeVault, plan_payout, run_payout};
use crate::{
    embedded,
    lds::distribution::{Stake, reference_split},
    model::{LockTier, PolicyKind},
    money::Msat,
    node::{Forward, ForwardStatus, Node},
    runtime::{Canary, PolicySource, Registry, RuntimeLimits, Sandbox},
    scid::ShortChannelId,
    sim::{Scenario, SimNetwork},
    store::{Investor, Store},
};
use std::collections::BTreeMap;

/// 2026-10-05 00:00 UTC: the investors join.
const JOINED: u64 = 1_791_158_400;
/// 2026-10-31 and 2026-11-30, 00:00 UTC: the two payouts.
const OCTOBER_END: u64 = 1_793_404_800;
const NOVEMBER_END: u64 = 1_795_996_800;
const ALICE_TWAB: u64 = 1_000_000_000;
const BOB_TWAB: u64 = 3_000_000_000;
/// The shipped policy's default reserve.
const RESERVE_PERMILLE: u64 = 100;

struct Fixture {
    store: Store,
    registry: Registry,
    node: SimNetwork,
    vault: FakeVault,
    next_forward: u64,
}

impl Fixture {
    fn new() -> Self {
        let registry = Registry::new(Sandbox::new(None).unwrap(), None, 3);
        let shipped = embedded::shipped("payout-twab").unwrap();
        registry
            .load_bytes(
                PolicyKind::Payout,
                super::PAYOUT_SLOT,
                shipped.wasm,
                PolicySource::Embedded(shipped.name.into()),
                &BTreeMap::new(),
                RuntimeLimits::default(),
                &Canary::sample(PolicyKind::Payout),
            )
            .unwrap();
        let mut store = Store::open_in_memory().unwrap();
        for (id, tier) in [("alice", LockTier::Liquid), ("bob", LockTier::Days90)] {
            store
                .add_investor(&Investor {
                    id: id.into(),
                    wallet_id: format!("w-{id}"),
                    invoice_key: format!("k-{id}"),
                    tier,
                    lock_expiry: None,
                    joined_at: JOINED,
                    removed_at: None,
                })
                .unwrap();
        }
        let node = SimNetwork::new(&Scenario::builtin("default").unwrap(), Some(4));
        Fixture {
            store,
            registry,
            node,
            vault: FakeVault::default(),
            next_forward: 1,
        }
    }

    /// A settled forward that earned `fee` at `at`.
    fn earn(&mut self, fee: u64, at: u64) {
        let index = self.next_forward;
        self.next_forward += 1;
        let channel = ShortChannelId::new(100, index, 0).unwrap();
        self.store
            .ingest_forwards(
                &[Forward {
                    created_index: index,
                    updated_index: Some(index),
                    in_channel: channel,
                    out_channel: Some(channel),
                    in_amount: Msat::new(1_000_000_000 + fee),
                    out_amount: Some(Msat::new(1_000_000_000)),
                    fee: Some(Msat::new(fee)),
                    status: ForwardStatus::Settled,
                    received_ms: at * 1000,
                    resolved_ms: Some(at * 1000),
                    failure: None,
                }],
                crate::store::ForwardIndex::Updated,
            )
            .unwrap();
    }

    /// The balances an hour before `now` (they stand for the whole average).
    fn snapshot_before(&mut self, now: u64) {
        self.store
            .record_snapshot(
                now - 3600,
                &[
                    ("alice".into(), Msat::new(ALICE_TWAB)),
                    ("bob".into(), Msat::new(BOB_TWAB)),
                ],
            )
            .unwrap();
    }

    fn plan(&mut self, period: &str, now: u64, minimum: Msat) -> PayoutPlan {
        self.snapshot_before(now);
        plan_payout(
            &self.node,
            &mut self.store,
            &self.registry,
            &self.vault,
            period,
            now,
            7,
            minimum,
        )
        .unwrap()
    }

    fn run(&mut self, period: &str, now: u64, minimum: Msat) -> PayoutPlan {
        let planned = self.plan(period, now, minimum);
        let copy = planned.clone();
        let outcome = run_payout(&mut self.store, &self.vault, period, now, |_| Ok(copy)).unwrap();
        assert!(outcome.stopped.is_none(), "{outcome:?}");
        planned
    }

    /// The node's on-chain costs, as the plan takes them off the profit.
    fn onchain_costs(&self) -> i64 {
        self.node
            .onchain_fees(JOINED)
            .unwrap()
            .unwrap_or_default()
            .iter()
            .map(|f| f.fee_msat)
            .sum()
    }
}

/// What the shipped policy gives each investor of `distributable` new profit.
fn shares(distributable: u64, native: Msat) -> BTreeMap<String, Msat> {
    let stakes = [
        Stake {
            investor_id: "alice".into(),
            tier: LockTier::Liquid,
            twab: Msat::new(ALICE_TWAB),
        },
        Stake {
            investor_id: "bob".into(),
            tier: LockTier::Days90,
            twab: Msat::new(BOB_TWAB),
        },
    ];
    reference_split(Msat::new(distributable), RESERVE_PERMILLE, native, &stakes)
        .lines
        .into_iter()
        .collect()
}

fn paid_to(plan: &PayoutPlan, investor: &str) -> Msat {
    plan.pay
        .iter()
        .find(|(id, _)| id == investor)
        .map_or(Msat::ZERO, |(_, amount)| *amount)
}

fn total(lines: &[(String, Msat)]) -> Msat {
    Msat::checked_sum(lines.iter().map(|(_, a)| *a)).unwrap()
}

#[test]
fn a_carry_is_not_profit_again_no_reserve_no_resplit() {
    let mut fixture = Fixture::new();
    let costs = fixture.onchain_costs();
    // Fees whose shares end in odd msat: the whole-sat rounding leaves remainders to carry.
    fixture.earn(u64::try_from(costs).unwrap() + 987_654_321, JOINED + 86_400);
    let october = fixture.run("2026-10", OCTOBER_END, Msat::ZERO);
    assert!(october.carried_out > Msat::ZERO, "{october:?}");

    // November earns nothing: what is owed is the carry, to the same investors, whole.
    let november = fixture.plan("2026-11", NOVEMBER_END, Msat::ZERO);
    assert_eq!(november.withheld, Msat::ZERO, "no reserve on a carry");
    // (`carried_out` includes the deferred lines.)
    assert_eq!(
        total(&november.pay).saturating_add(november.carried_out),
        october.carried_out,
        "the carry neither shrinks nor grows: {november:?}"
    );
}

#[test]
fn a_line_below_the_minimum_builds_up_until_it_is_paid() {
    let mut fixture = Fixture::new();
    let costs = u64::try_from(fixture.onchain_costs()).unwrap();
    let native = fixture.node.funds().unwrap().channels_local;
    let fee = 2_000_000_000;
    fixture.earn(costs + fee, JOINED + 86_400);
    // Alice's first share is just under the minimum; bob's (three times her capital) is over.
    let first = shares(fee, native);
    let minimum = first["alice"].checked_add(Msat::new(1)).unwrap();
    let october = fixture.run("2026-10", OCTOBER_END, minimum);
    assert_eq!(paid_to(&october, "alice"), Msat::ZERO, "{october:?}");
    assert_eq!(october.deferred, vec![("alice".to_owned(), first["alice"])]);
    assert!(paid_to(&october, "bob") > Msat::ZERO);

    // November earns the same again: alice is owed both shares, and that is paid.
    fixture.earn(fee, OCTOBER_END + 86_400);
    let november = fixture.run("2026-11", NOVEMBER_END, minimum);
    let owed = first["alice"]
        .checked_add(shares(fee, native)["alice"])
        .unwrap();
    assert_eq!(
        paid_to(&november, "alice"),
        Msat::from_sat(owed.sat_floor()).unwrap(),
        "alice's deferred line was added to her new share: {november:?}"
    );
}
