//! Payout periods are calendar months, `YYYY-MM`, from the first investor's month to this one:
//! anything else is a parameter error and records nothing.

use super::payouts::{DAY, invest_and_route, node, now, options, setup, this_month};
use revops_tests::standin::StandIn;
use serde_json::json;

/// The month before this one, `YYYY-MM` (the investors of the test joined this month).
fn last_month() -> String {
    let out = std::process::Command::new("date")
        .args(["-u", "-d", &format!("@{}", now() - 32 * DAY), "+%Y-%m"])
        .output()
        .expect("date");
    let month = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    // 32 days back may skip a month only at the very end of a 31-day month: close enough.
    assert_ne!(month, this_month());
    month
}

#[test]
fn only_months_from_the_first_investor_to_now_can_be_paid() {
    let setup = setup(400_000);
    let mut standin = StandIn::start(node(), options(&setup));
    invest_and_route(&mut standin, &setup);
    let before = last_month();
    for period in [
        "garbage", "2099-01", "2026-13", "2026-00", "26-11", "2026-1", &before,
    ] {
        for method in ["revenue-payout-preview", "revenue-payout-run"] {
            let error = standin.call(method, json!([period])).unwrap_err();
            assert_eq!(error["code"], -32602, "{method} {period}: {error}");
        }
    }
    let history = standin.call("revenue-payout-history", json!([])).unwrap();
    assert_eq!(history["runs"], json!([]), "nothing recorded: {history}");
    let list = standin
        .call("revenue-lds-investor-list", json!([]))
        .unwrap();
    assert_eq!(list["ledger"]["high_water_msat"], 0, "{list}");
    let preview = standin
        .call("revenue-payout-preview", json!([this_month()]))
        .unwrap();
    assert!(preview["pay"].as_array().is_some(), "{preview}");
}
