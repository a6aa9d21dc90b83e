//! The market's events and supply side, each shown by its effect on the simulated node:
//! floods and jamming on chosen channels, peers offline, channels opened and closed, rebalance
//! routes priced per attempt — and the host's cycles coping with all of it.

use revops::{
    embedded,
    money::Msat,
    node::{ForwardStatus, Node, NodeChannel, RouteRequest, STATE_NORMAL, UNKNOWN_NEXT_PEER},
    runtime::{PolicySource, Sandbox},
    scid::ShortChannelId,
    sim::{PolicyUnderTest, Scenario, SimNetwork, simulate},
};

const HOUR: u64 = 3600;
const DAY: u64 = 86_400;

/// Six explicit channels, busy enough that every channel routes every hour, then `extra`.
fn scenario(extra: &str) -> Scenario {
    let text = format!(
        r#"
name = "events"
days = 4
seed = 3
[market]
payments-per-channel-day = 60.0
amount-sat-min = 10000
amount-sat-max = 200000
elasticity = 2.0
hold-secs-min = 2
hold-secs-max = 60
downstream-fail-rate = 0.0
[feerate]
base-perkb = 2000
[generate]
count = 0
capacity-sat = [5000000]
competitor-ppm-min = 100
competitor-ppm-max = 1000
fee-ppm = 100
[[channel]]
label = "a"
capacity-sat = 10000000
local-share = 0.5
out-weight = 1.0
in-weight = 1.0
competitor-ppm = 600
max-accepted-htlcs = 30
[[channel]]
label = "b"
capacity-sat = 10000000
local-share = 0.5
out-weight = 1.0
in-weight = 1.0
competitor-ppm = 600
max-accepted-htlcs = 30
[[channel]]
label = "c"
capacity-sat = 10000000
local-share = 0.5
out-weight = 1.0
in-weight = 1.0
competitor-ppm = 600
[[channel]]
label = "d"
capacity-sat = 10000000
local-share = 0.5
out-weight = 1.0
in-weight = 1.0
competitor-ppm = 600
[[channel]]
label = "e"
capacity-sat = 10000000
local-share = 0.5
out-weight = 1.0
in-weight = 1.0
competitor-ppm = 600
[[channel]]
label = "f"
capacity-sat = 10000000
local-share = 0.5
out-weight = 1.0
in-weight = 1.0
competitor-ppm = 600
{extra}
"#
    );
    let scenario: Scenario = toml::from_str(&text).unwrap();
    scenario.validate().unwrap();
    scenario
}

fn at(network: &mut SimNetwork, secs: u64) {
    network.advance_to(secs);
}

fn channel(network: &SimNetwork, label_index: usize) -> Option<NodeChannel> {
    let id = network.channel_ids()[label_index];
    network
        .channels()
        .unwrap()
        .into_iter()
        .find(|c| c.short_channel_id == Some(id))
}

fn htlcs(c: &NodeChannel, outgoing: bool) -> usize {
    c.htlcs.iter().filter(|h| h.outgoing == outgoing).count()
}

#[test]
fn a_dust_flood_jams_the_chosen_incoming_and_outgoing_channels_until_released() {
    // 30 slots on channels 0 and 1: 30 dust HTLCs (every slot) from 0 (in) to 1 (out), held 10 h, let go at
    // hour 6 of day 1.
    let flood = r#"
[[event]]
kind = "flood"
in-channel = 0
out-channel = 1
start-day = 1.0
count = 30
amount-sat = 1
hold-hours = 10.0
release-day = 1.25
"#;
    let base = scenario("");
    let jammed = scenario(flood);
    let (mut quiet, mut noisy) = (SimNetwork::new(&base, None), SimNetwork::new(&jammed, None));
    let start = base.start;
    for network in [&mut quiet, &mut noisy] {
        at(network, start + DAY + HOUR);
    }
    let (inc, out) = (channel(&noisy, 0).unwrap(), channel(&noisy, 1).unwrap());
    assert!(htlcs(&inc, false) >= 30, "{:?}", inc.htlcs);
    assert!(htlcs(&out, true) >= 30, "{:?}", out.htlcs);
    assert_eq!(noisy.stats().flood_htlcs_held, 30);
    for network in [&mut quiet, &mut noisy] {
        at(network, start + DAY + 6 * HOUR - 60);
    }
    // Senders who wanted channel 1 found it full: failed on our side, far more than without.
    let failed = |n: &SimNetwork| n.stats().forwards_failed_local;
    assert!(
        failed(&noisy) > failed(&quiet) + 10,
        "{} vs {}",
        failed(&noisy),
        failed(&quiet)
    );
    assert!(noisy.stats().forwards_settled < quiet.stats().forwards_settled);
    // The same senders came (common random numbers): the flood changed no draw.
    assert_eq!(
        noisy.stats().lost_to_competitors,
        quiet.stats().lost_to_competitors
    );
    // Released at hour 6: the slots are free again.
    at(&mut noisy, start + DAY + 6 * HOUR + 60);
    let out = channel(&noisy, 1).unwrap();
    assert!(htlcs(&out, true) < 5, "{:?}", out.htlcs);
}

#[test]
fn a_whale_flood_locks_liquidity_and_slow_jamming_holds_for_most_of_the_cltv() {
    // 4 × 1,000,000 sat into channel 2, out through whatever has room, held 90–99 % of 144
    // blocks (a day).
    let flood = r#"
[[event]]
kind = "flood"
in-channel = 2
start-day = 1.0
count = 4
amount-sat = 1000000
hold = "slow-jam"
cltv-blocks = 144
"#;
    let jammed = scenario(flood);
    let mut network = SimNetwork::new(&jammed, None);
    let start = jammed.start;
    at(&mut network, start + DAY + 20 * HOUR);
    let inc = channel(&network, 2).unwrap();
    let whales = inc
        .htlcs
        .iter()
        .filter(|h| !h.outgoing && h.amount >= Msat::new(1_000_000_000))
        .count();
    assert_eq!(whales, 4, "still held after 20 hours: {:?}", inc.htlcs);
    at(&mut network, start + 2 * DAY);
    let inc = channel(&network, 2).unwrap();
    assert!(
        inc.htlcs
            .iter()
            .all(|h| h.amount < Msat::new(1_000_000_000)),
        "let go before the CLTV limit"
    );
}

#[test]
fn an_offline_peer_is_shown_and_its_forwards_fail_unknown_next_peer() {
    let offline = r#"
[[event]]
kind = "peer-offline"
channel = 3
start-day = 1.0
hours = 12.0
"#;
    let jammed = scenario(offline);
    let mut network = SimNetwork::new(&jammed, None);
    let start = jammed.start;
    at(&mut network, start + DAY - 60);
    assert!(channel(&network, 3).unwrap().peer_connected);
    at(&mut network, start + DAY + 6 * HOUR);
    let down = channel(&network, 3).unwrap();
    assert!(!down.peer_connected);
    assert_eq!(down.state, STATE_NORMAL);
    let id = network.channel_ids()[3];
    let failed: Vec<_> = network
        .forwards_created_since(0, u32::MAX)
        .unwrap()
        .into_iter()
        .filter(|f| f.out_channel == Some(id) && f.received_ms >= (start + DAY) * 1000)
        .collect();
    assert!(!failed.is_empty());
    assert!(failed.iter().all(|f| f.status == ForwardStatus::LocalFailed
        && f.failure.as_ref().unwrap().code == UNKNOWN_NEXT_PEER));
    assert!(
        network.stats().lost_peer_offline > 0,
        "most senders saw it disabled"
    );
    at(&mut network, start + DAY + 13 * HOUR);
    assert!(channel(&network, 3).unwrap().peer_connected);
}

/// With sender memory, a channel whose peer was offline loses senders for a while after it is
/// back (pathfinding remembers it failed and was disabled); without the outage, or without
/// memory, nothing changes.
#[test]
fn a_channel_back_from_offline_loses_senders_for_a_while_with_sender_memory() {
    let outage = "[[event]]\nkind = \"peer-offline\"\nchannel = 3\nstart-day = 1.0\nhours = 12.0\n";
    let memory = "[market.sender-memory]\nfailure-penalty = 0.5\nhalf-life-hours = 2.0\n";
    // Forwards out through channel 3 in the three hours after the peer is back.
    let after_return = |extra: &str| {
        let scenario = scenario(extra);
        let mut network = SimNetwork::new(&scenario, None);
        let back = scenario.start + DAY + 12 * HOUR;
        at(&mut network, back + 3 * HOUR);
        let id = network.channel_ids()[3];
        network
            .forwards_created_since(0, u32::MAX)
            .unwrap()
            .into_iter()
            .filter(|f| f.out_channel == Some(id) && f.received_ms >= back * 1000)
            .count()
    };
    let control = after_return("");
    assert!(control > 3, "{control}");
    assert_eq!(
        after_return(memory),
        control,
        "no failure, nothing to remember"
    );
    let forgetful = after_return(outage);
    let remembering = after_return(&format!("{outage}{memory}"));
    assert!(
        remembering < forgetful,
        "{remembering} after the outage with memory vs {forgetful} without"
    );
}

#[test]
fn channels_open_with_their_cost_and_close() {
    let mut lives = scenario(
        r#"
[[channel]]
label = "new"
capacity-sat = 5000000
local-share = 1.0
out-weight = 2.0
in-weight = 0.0
competitor-ppm = 800
open-day = 1.0
"#,
    );
    lives.channels[4].close_day = Some(2.0);
    lives.validate().unwrap();
    let mut network = SimNetwork::new(&lives, None);
    let start = lives.start;
    at(&mut network, start + HOUR);
    assert_eq!(network.channels().unwrap().len(), 6, "not open yet");
    at(&mut network, start + DAY + HOUR);
    let new = channel(&network, 6).expect("opened");
    assert_ne!(
        new.short_channel_id,
        channel(&network, 0).unwrap().short_channel_id
    );
    assert_eq!(new.funding_height, Some(900_144));
    assert_eq!(new.total, Msat::new(5_000_000_000));
    assert_eq!(network.stats().channels_opened, 1);
    // 154 vbytes at the feerate of the moment (2,000 sat/kvB, no swing or noise).
    assert_eq!(network.stats().onchain_fees_paid, Msat::new(2000 * 154));
    let fees = network.onchain_fees(start + DAY).unwrap().unwrap();
    assert_eq!(fees.len(), 1);
    at(&mut network, start + 2 * DAY + HOUR);
    let closed = channel(&network, 4).unwrap();
    assert_ne!(closed.state, STATE_NORMAL);
    assert_eq!(
        network.stats().onchain_fees_paid,
        Msat::new(2000 * (154 + 170))
    );
    at(&mut network, start + 3 * DAY + HOUR);
    assert!(channel(&network, 4).is_none(), "forgotten after 100 blocks");
    // The new channel sells (senders use it once it exists).
    let settled_out = network
        .forwards_created_since(0, u32::MAX)
        .unwrap()
        .into_iter()
        .filter(|f| f.out_channel == new.short_channel_id && f.status == ForwardStatus::Settled)
        .count();
    assert!(settled_out > 0);
}

fn request(network: &SimNetwork, max_fee_sat: u64) -> RouteRequest {
    let peers = network.channels_peer_ids();
    RouteRequest {
        source: peers[0].clone(),
        destination: peers[2].clone(),
        amount: Msat::new(1_000_000_000),
        max_fee: Msat::new(max_fee_sat * 1000),
        layers: vec![],
        final_cltv: 18,
    }
}

#[test]
fn rebalance_routes_are_priced_per_attempt_and_dearer_when_the_mempool_is() {
    let priced = scenario("[rebalance-routes]\nppm = 400\nspread = 0.5\n");
    let mut network = SimNetwork::new(&priced, None);
    let mut fees = Vec::new();
    for hour in 1..=40 {
        at(&mut network, priced.start + hour * HOUR);
        let routes = network.get_routes(&request(&network, 100_000)).unwrap();
        let hop = &routes[0].hops[0];
        fees.push((hop.amount_in.msat() - hop.amount_out.msat()) / 1000);
        assert!(routes[0].probability_ppm < 1_000_000);
    }
    fees.sort_unstable();
    assert!(fees[0] < fees[39] / 2, "a spread of prices: {fees:?}");
    // Below the price of the moment: no route, as askrene says it.
    let error = network.get_routes(&request(&network, 1)).unwrap_err();
    assert!(error.to_string().contains("205"), "{error}");

    let mut spiked = scenario(
        "[rebalance-routes]\nppm = 400\nspread = 0.5\n[[event]]\nkind = \"mempool-spike\"\nstart-day = 0.0\nhours = 48.0\nmultiplier = 6.0\n",
    );
    spiked.name = "spiked".into();
    let mut network = SimNetwork::new(&spiked, None);
    let mut spiked_fees = Vec::new();
    for hour in 1..=40 {
        at(&mut network, spiked.start + hour * HOUR);
        let routes = network.get_routes(&request(&network, 100_000)).unwrap();
        let hop = &routes[0].hops[0];
        spiked_fees.push((hop.amount_in.msat() - hop.amount_out.msat()) / 1000);
    }
    spiked_fees.sort_unstable();
    assert!(
        spiked_fees[20] > fees[20] * 2,
        "median {} vs {}",
        spiked_fees[20],
        fees[20]
    );
}

/// The host's fee and rebalance cycles through channels that open, close and go offline.
#[test]
fn the_cycles_cope_with_channels_that_come_and_go() {
    let mut lives = scenario(
        r#"
[rebalance-routes]
ppm = 300
[[channel]]
label = "late"
capacity-sat = 5000000
local-share = 0.2
out-weight = 2.0
in-weight = 0.2
competitor-ppm = 800
open-day = 0.5
close-day = 2.5
[[event]]
kind = "peer-offline"
channel = 1
start-day = 0.3
hours = 20.0
[[event]]
kind = "flood"
out-channel = 6
start-day = 1.0
count = 20
amount-sat = 1000
hold = "exponential"
hold-hours = 3.0
waves = 3
every-hours = 8.0
"#,
    );
    lives.channels[0].close_day = Some(1.5);
    lives.channels[2].local_share = 0.05;
    lives.validate().unwrap();
    let embedded = |name: &str| PolicyUnderTest {
        label: name.into(),
        wasm: embedded::shipped(name).unwrap().wasm.to_vec(),
        source: PolicySource::Embedded(name.into()),
        params: Default::default(),
    };
    let report = simulate(
        &lives,
        None,
        &embedded("one-percent"),
        Some(&embedded("rebalance-ev")),
        &Sandbox::new(None).unwrap(),
        &mut |_, _| {},
    )
    .expect("no cycle error");
    assert_eq!(report.policy_errors, 0);
    assert_eq!(report.channels, 7);
    assert!(report.forwards_settled > 0);
    let _: ShortChannelId = report.channel_details[6].channel;
}

/// The example scenarios (host/scenarios/examples): each parses, validates, and a day of it
/// simulates with the events it holds.
#[test]
fn the_example_scenarios_parse_validate_and_simulate() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/examples");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let mut scenario = Scenario::from_file(&path).unwrap();
        names.push(scenario.name.clone());
        scenario.days = 1;
        let report = simulate(
            &scenario,
            None,
            &PolicyUnderTest {
                label: "static".into(),
                wasm: embedded::shipped("static").unwrap().wasm.to_vec(),
                source: PolicySource::Embedded("static".into()),
                params: Default::default(),
            },
            None,
            &Sandbox::new(None).unwrap(),
            &mut |_, _| {},
        )
        .unwrap();
        assert_eq!(report.policy_errors, 0, "{}", scenario.name);
        assert!(report.forwards_settled > 0, "{}", scenario.name);
    }
    names.sort();
    assert_eq!(
        names,
        [
            "graveyard",
            "mempool-siege",
            "node-300",
            "one-way-drains",
            "weekends",
            "whale-and-dust-floods"
        ]
    );
}
