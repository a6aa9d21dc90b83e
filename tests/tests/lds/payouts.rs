//! Payouts end to end: the real plugin (through the stand-in lightningd) against a real LNbits.
//! Balances are read from LNbits before and after, so "paid once" means LNbits says so.

use revops::sim::{Scenario, SimNetwork};
use revops_tests::{lnbits::Lnbits, standin::StandIn};
use serde_json::{Value, json};
use std::{
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::{SystemTime, UNIX_EPOCH},
};

pub(crate) const DAY: u64 = 86_400;

/// This UTC month, `YYYY-MM` (the investors of a test join now, so it is the only month a
/// test can pay), as `date` tells it.
pub(crate) fn this_month() -> String {
    let out = std::process::Command::new("date")
        .args(["-u", "+%Y-%m"])
        .output()
        .expect("date");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A wallet name unique on the shared LNbits (2–20 characters of [A-Za-z0-9._]).
pub(crate) fn unique(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}{}x{}",
        std::process::id() % 100_000,
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

pub(crate) fn u64_of(value: &Value) -> u64 {
    value
        .as_u64()
        .unwrap_or_else(|| panic!("not a u64: {value}"))
}

pub(crate) struct Wallet {
    pub id: String,
    pub adminkey: String,
    pub inkey: String,
}

pub(crate) fn wallet(lnbits: &Lnbits, prefix: &str, sats: u64) -> Wallet {
    let made = lnbits.wallet(&unique(prefix));
    let w = Wallet {
        id: made["id"].as_str().unwrap().to_owned(),
        adminkey: made["adminkey"].as_str().unwrap().to_owned(),
        inkey: made["inkey"].as_str().unwrap().to_owned(),
    };
    if sats > 0 {
        lnbits.fund(&w.id, sats);
    }
    w
}

/// A node whose market started a day ago (a week of it is simulated below, after investors join).
pub(crate) fn node() -> SimNetwork {
    node_of(8)
}

pub(crate) fn node_of(channels: usize) -> SimNetwork {
    let mut scenario = Scenario::builtin("default").unwrap();
    scenario.start = now() - DAY;
    SimNetwork::new(&scenario, Some(channels))
}

pub(crate) struct Setup {
    pub lnbits: Arc<Lnbits>,
    pub operator: Wallet,
    pub alice: Wallet,
    pub bob: Wallet,
}

pub(crate) fn setup(alice_sats: u64) -> Setup {
    let lnbits = Lnbits::acquire();
    let operator = wallet(&lnbits, "op", 2_000_000);
    let alice = wallet(&lnbits, "alice", alice_sats);
    let bob = wallet(&lnbits, "bob", 200_000);
    Setup {
        lnbits,
        operator,
        alice,
        bob,
    }
}

pub(crate) fn options(setup: &Setup) -> Value {
    json!({
        "revenue-lnbits-url": setup.lnbits.url,
        "revenue-lds-operator-key": setup.operator.adminkey,
    })
}

/// Registers both investors, lets the node route for a week after they joined (that is the
/// profit to share) and takes a snapshot of their balances.
pub(crate) fn invest_and_route(standin: &mut StandIn, setup: &Setup) {
    let alice = standin
        .call(
            "revenue-lds-investor-add",
            json!(["alice", setup.alice.id, setup.alice.inkey, "liquid"]),
        )
        .unwrap();
    assert_eq!(alice["investor"]["tier"], "liquid", "{alice}");
    assert_eq!(alice["warnings"], json!([]), "{alice}");
    let bob = standin
        .call(
            "revenue-lds-investor-add",
            json!({ "id": "bob", "wallet_id": setup.bob.id, "invoice_key": setup.bob.inkey, "tier": "90d" }),
        )
        .unwrap();
    assert!(bob["investor"]["lock_expiry"].as_u64().unwrap() > now() + 89 * DAY);
    assert!(
        bob["lock_hint"]
            .as_str()
            .unwrap()
            .contains("/lds_vault/api/v1/locks/")
    );
    let snapshot = route_a_week(standin);
    assert_eq!(
        snapshot["balances"].as_array().unwrap().len(),
        2,
        "{snapshot}"
    );
}

/// Lets the node route for a week (the profit to share) and takes a balance snapshot.
pub(crate) fn route_a_week(standin: &mut StandIn) -> Value {
    standin
        .daemon
        .lock()
        .unwrap()
        .node
        .advance_to(now() + 7 * DAY);
    standin.call("revenue-lds-snapshot", json!([])).unwrap()
}

pub(crate) fn line_amount(lines: &Value, investor: &str) -> u64 {
    lines
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l[0] == investor)
        .map(|l| u64_of(&l[1]))
        .unwrap_or(0)
}

#[test]
fn preview_then_run_then_rerun_pays_each_investor_once() {
    let setup = setup(400_000);
    let mut standin = StandIn::start(node(), options(&setup));
    invest_and_route(&mut standin, &setup);
    let before = (
        setup.lnbits.balance_msat(&setup.alice.inkey),
        setup.lnbits.balance_msat(&setup.bob.inkey),
        setup.lnbits.balance_msat(&setup.operator.inkey),
    );
    assert_eq!(before.0, 400_000_000);

    let month = this_month();
    let preview = standin
        .call("revenue-payout-preview", json!([month]))
        .unwrap();
    eprintln!("preview: {preview:#}");
    assert_eq!(preview["solvency"]["solvent"], true, "{preview}");
    let distributable = u64_of(&preview["distributable"]);
    assert!(distributable > 0, "the node earned nothing: {preview}");
    assert_eq!(
        u64_of(&preview["withheld"]),
        distributable / 10,
        "10 % reserve"
    );
    let (alice_share, bob_share) = (
        line_amount(&preview["pay"], "alice"),
        line_amount(&preview["pay"], "bob"),
    );
    assert!(alice_share > 0 && bob_share > 0, "{preview}");
    assert_eq!(alice_share % 1000, 0, "whole sat");
    assert!(
        alice_share + bob_share + u64_of(&preview["withheld"]) <= distributable,
        "{preview}"
    );
    assert_eq!(
        setup.lnbits.balance_msat(&setup.alice.inkey),
        before.0,
        "a preview pays nothing"
    );

    let run = standin
        .call("revenue-payout-run", json!({ "period": month }))
        .unwrap();
    eprintln!("run: {run:#}");
    assert_eq!(run["already_done"], false);
    assert_eq!(run["run"]["status"], "done", "{run}");
    assert_eq!(run["paid_now"].as_array().unwrap().len(), 2, "{run}");
    let after = (
        setup.lnbits.balance_msat(&setup.alice.inkey),
        setup.lnbits.balance_msat(&setup.bob.inkey),
        setup.lnbits.balance_msat(&setup.operator.inkey),
    );
    assert_eq!(after.0 - before.0, alice_share, "alice credited her share");
    assert_eq!(after.1 - before.1, bob_share, "bob credited his share");
    assert_eq!(
        before.2 - after.2,
        alice_share + bob_share,
        "paid from the operator wallet, internal transfers cost no fee"
    );

    let rerun = standin.call("revenue-payout-run", json!([month])).unwrap();
    assert_eq!(rerun["already_done"], true, "{rerun}");
    assert_eq!(rerun["paid_now"], json!([]));
    assert_eq!(setup.lnbits.balance_msat(&setup.alice.inkey), after.0);
    assert_eq!(setup.lnbits.balance_msat(&setup.bob.inkey), after.1);

    // The period has its run now: a preview shows it instead of new lines.
    let again = standin
        .call("revenue-payout-preview", json!([month]))
        .unwrap();
    assert_eq!(again["run"]["status"], "done", "{again}");
    let history = standin.call("revenue-payout-history", json!([])).unwrap();
    let lines = history["runs"][0]["lines"].as_array().unwrap();
    assert!(lines.iter().all(|l| l["status"] == "paid"), "{history}");
    assert!(lines.iter().all(|l| {
        l["external_id"]
            .as_str()
            .unwrap()
            .starts_with(&format!("revops-lds-{month}-"))
    }));
}

#[test]
fn a_crash_mid_run_then_a_rerun_pays_each_investor_exactly_once() {
    let setup = setup(400_000);
    let dir = tempfile::tempdir().unwrap();
    let mut standin = StandIn::start_with_env(
        dir,
        node(),
        options(&setup),
        &[("REVOPS_FAILPOINT", "payout-after-pay")],
    );
    invest_and_route(&mut standin, &setup);
    let before = (
        setup.lnbits.balance_msat(&setup.alice.inkey),
        setup.lnbits.balance_msat(&setup.bob.inkey),
    );
    let month = this_month();
    assert!(
        standin.call_expecting_exit("revenue-payout-run", json!([month])),
        "the failpoint should have stopped revops after its first payment"
    );
    let (dir, node, _) = standin.after_crash();
    // One investor was paid; revops died before recording it.
    let paid_before_crash = (
        setup.lnbits.balance_msat(&setup.alice.inkey) - before.0,
        setup.lnbits.balance_msat(&setup.bob.inkey) - before.1,
    );
    assert!(
        (paid_before_crash.0 > 0) ^ (paid_before_crash.1 > 0),
        "exactly one credit before the crash: {paid_before_crash:?}"
    );

    let mut standin = StandIn::start_in(dir, node, options(&setup));
    let resumed = standin.call("revenue-payout-run", json!([month])).unwrap();
    eprintln!("resumed: {resumed:#}");
    assert_eq!(resumed["run"]["status"], "done", "{resumed}");
    assert_eq!(
        resumed["paid_now"].as_array().unwrap().len(),
        1,
        "only the unpaid investor is paid now: {resumed}"
    );
    let lines = resumed["run"]["lines"].as_array().unwrap();
    let share = |id: &str| {
        lines
            .iter()
            .find(|l| l["investor_id"] == id)
            .map(|l| u64_of(&l["amount"]))
            .unwrap()
    };
    assert_eq!(
        setup.lnbits.balance_msat(&setup.alice.inkey) - before.0,
        share("alice"),
        "alice credited once"
    );
    assert_eq!(
        setup.lnbits.balance_msat(&setup.bob.inkey) - before.1,
        share("bob"),
        "bob credited once"
    );
    let again = standin.call("revenue-payout-run", json!([month])).unwrap();
    assert_eq!(again["already_done"], true);
}

#[test]
fn an_insolvent_node_pays_nothing_and_says_why() {
    // Two channels hold 8.5 M sat on our side: 85 % of it cannot cover 9.2 M sat of investors.
    let setup = setup(9_000_000);
    let mut standin = StandIn::start(node_of(2), options(&setup));
    invest_and_route(&mut standin, &setup);
    let solvency = standin.call("revenue-lds-solvency", json!([])).unwrap();
    assert_eq!(solvency["solvent"], false, "{solvency}");
    // A preview shows what a run would pay, and that it would not run.
    let preview = standin
        .call("revenue-payout-preview", json!([this_month()]))
        .unwrap();
    assert_eq!(preview["solvency"]["solvent"], false, "{preview}");
    assert!(!preview["pay"].as_array().unwrap().is_empty(), "{preview}");
    let error = standin
        .call("revenue-payout-run", json!([this_month()]))
        .unwrap_err();
    assert_eq!(error["code"], 1609, "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("85 %"),
        "{error}"
    );
    assert_eq!(
        setup.lnbits.balance_msat(&setup.bob.inkey),
        200_000_000,
        "nothing paid"
    );
    let history = standin.call("revenue-payout-history", json!([])).unwrap();
    assert_eq!(history["runs"], json!([]), "a halted payout is not a run");
}

#[test]
fn lnbits_down_is_a_clear_error_and_nothing_is_recorded() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut standin = StandIn::start(
        node(),
        json!({ "revenue-lnbits-url": format!("http://127.0.0.1:{closed}") }),
    );
    let error = standin
        .call(
            "revenue-lds-investor-add",
            json!(["carol", "0".repeat(32), "1".repeat(32), "liquid"]),
        )
        .unwrap_err();
    assert_eq!(error["code"], 1608, "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("unreachable"),
        "{error}"
    );
    let list = standin
        .call("revenue-lds-investor-list", json!([]))
        .unwrap();
    assert_eq!(list["investors"], json!([]), "{list}");
    let bad = standin
        .call(
            "revenue-lds-investor-add",
            json!(["carol", "nothex", "1", "weekly"]),
        )
        .unwrap_err();
    assert_eq!(bad["code"], -32602, "{bad}");
    let off = StandIn::start(node(), json!({}))
        .call("revenue-payout-preview", json!([]))
        .unwrap_err();
    assert_eq!(off["code"], 1605, "{off}");
}
