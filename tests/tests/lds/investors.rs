//! `revenue-lds-investor-add` against a real LNbits: only an invoice key of a wallet that is
//! not the operator's is accepted, and every refusal is a short parameter error.

use super::payouts::{node, options, setup, wallet};
use revops_tests::standin::StandIn;
use serde_json::{Value, json};

fn add(standin: &mut StandIn, params: Value) -> Result<Value, Value> {
    standin.call("revenue-lds-investor-add", params)
}

fn refused(answer: Result<Value, Value>, says: &str) {
    let error = answer.expect_err("refused");
    assert_eq!(error["code"], -32602, "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains(says), "{says:?} not in {error}");
}

fn no_investors(standin: &mut StandIn) {
    let list = standin
        .call("revenue-lds-investor-list", json!([]))
        .unwrap();
    assert_eq!(list["investors"], json!([]), "{list}");
}

#[test]
fn a_spending_key_or_the_operator_wallet_is_never_an_investor() {
    let setup = setup(1_000);
    let mut standin = StandIn::start(node(), options(&setup));
    let op = &setup.operator;
    refused(
        add(&mut standin, json!(["carol", op.id, op.adminkey, "liquid"])),
        "admin key",
    );
    refused(
        add(
            &mut standin,
            json!(["carol", setup.alice.id, setup.alice.adminkey, "liquid"]),
        ),
        "admin key",
    );
    refused(
        add(&mut standin, json!(["carol", op.id, op.inkey, "liquid"])),
        "operator",
    );
    no_investors(&mut standin);
}

#[test]
fn a_key_lnbits_does_not_know_is_a_parameter_error() {
    let setup = setup(0);
    let mut standin = StandIn::start(node(), options(&setup));
    refused(
        add(
            &mut standin,
            json!([
                "carol",
                setup.alice.id,
                "0123456789abcdef0123456789abcdef",
                "liquid"
            ]),
        ),
        "LNbits does not know that key",
    );
    no_investors(&mut standin);
}

#[test]
fn a_wallet_belongs_to_one_investor_and_tiers_read_as_entered() {
    let setup = setup(0);
    let mut standin = StandIn::start(node(), options(&setup));
    let alice = add(
        &mut standin,
        json!(["alice", setup.alice.id, setup.alice.inkey, "90d"]),
    )
    .unwrap();
    assert_eq!(alice["investor"]["tier"], "90d", "{alice}");
    let other = wallet(&setup.lnbits, "dan", 0);
    let dan = add(&mut standin, json!(["dan", other.id, other.inkey, "30d"])).unwrap();
    assert_eq!(dan["investor"]["tier"], "30d", "{dan}");
    let list = standin
        .call("revenue-lds-investor-list", json!([]))
        .unwrap();
    let tiers: Vec<&Value> = list["investors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["tier"])
        .collect();
    assert_eq!(tiers, [&json!("90d"), &json!("30d")], "{list}");

    let again = add(
        &mut standin,
        json!(["alice2", setup.alice.id, setup.alice.inkey, "liquid"]),
    );
    refused(again.clone(), "already the wallet of investor alice");
    let message = again.unwrap_err()["message"].to_string();
    assert!(!message.contains("UNIQUE"), "{message}");
}

#[test]
fn a_spending_key_stored_by_an_older_version_is_never_used() {
    let setup = setup(1_000);
    let mut standin = StandIn::start(node(), options(&setup));
    super::payouts::invest_and_route(&mut standin, &setup);
    let (dir, node, _) = standin.stop();
    // What a version that did not check keys could have stored: alice's admin key.
    let db = dir.path().join("revops/revops.sqlite3");
    let sql = format!(
        "import sqlite3; db = sqlite3.connect('{}'); \
         db.execute(\"UPDATE lds_investors SET invoice_key = '{}' WHERE id = 'alice'\"); \
         db.commit()",
        db.display(),
        setup.alice.adminkey
    );
    let status = std::process::Command::new(revops_tests::lnbits::venv_python())
        .args(["-c", &sql])
        .status()
        .unwrap();
    assert!(status.success());
    let mut standin = StandIn::start_in(dir, node, options(&setup));
    for method in ["revenue-payout-preview", "revenue-payout-run"] {
        let error = standin.call(method, json!([])).unwrap_err();
        assert_eq!(error["code"], 1608, "{method}: {error}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains("can spend"), "{method}: {error}");
    }
    let snapshot = standin.call("revenue-lds-snapshot", json!([])).unwrap();
    assert_eq!(snapshot["unreadable"][0][0], "alice", "{snapshot}");
    assert_eq!(
        setup.lnbits.balance_msat(&setup.bob.inkey),
        200_000_000,
        "nothing paid"
    );
}
