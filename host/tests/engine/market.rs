//! The demand side of the simulated market, each feature shown by its effect: scopes and
//! seasonality, competitors with fee policies and finite liquidity, inbound and outbound
//! demand, per-channel payment sizes, senders who remember failures, gossip delay, and the
//! on-chain pull. The market alone (`SimNetwork`), fees set by hand.

use revops::{
    money::{Msat, Ppm},
    node::{FEE_INSUFFICIENT, Forward, ForwardStatus, Node, SetChannelFee},
    scid::ShortChannelId,
    sim::{MarketStats, Scenario, SimNetwork},
};

const HOUR: u64 = 3600;
const DAY: u64 = 86_400;
const STEP: u64 = 600;

/// The channels `channels` (deep enough never to run dry) under a market with `market` lines
/// added (hold times of its own replace the default ones), and `events`.
fn scenario(days: u32, market: &str, channels: &str, events: &str) -> Scenario {
    let holds = if market.contains("hold-secs") {
        ""
    } else {
        "hold-secs-min = 2\nhold-secs-max = 30"
    };
    let text = format!(
        r#"
name = "market-test"
days = {days}
seed = 42
[market]
payments-per-channel-day = 240.0
amount-sat-min = 10000
amount-sat-max = 200000
elasticity = 2.5
downstream-fail-rate = 0.0
{holds}
{market}
[feerate]
base-perkb = 2000
[generate]
count = 4
capacity-sat = [100000000]
competitor-ppm-min = 500
competitor-ppm-max = 500
fee-ppm = 400
{channels}
{events}
"#
    );
    let scenario: Scenario = toml::from_str(&text).unwrap();
    scenario.validate().unwrap();
    scenario
}

const ROUTING: &str = r#"
[[channel]]
label = "a"
capacity-sat = 100000000
local-share = 0.5
out-weight = 1.0
in-weight = 1.0
competitor-ppm = 500
fee-ppm = 400
tags = ["quiet"]

[[channel]]
label = "b"
capacity-sat = 100000000
local-share = 0.5
out-weight = 1.0
in-weight = 1.0
competitor-ppm = 500
fee-ppm = 400

[[channel]]
label = "c"
capacity-sat = 100000000
local-share = 0.5
out-weight = 1.0
in-weight = 1.0
competitor-ppm = 500
fee-ppm = 400
tags = ["quiet", "big"]

[[channel]]
label = "d"
capacity-sat = 100000000
local-share = 0.5
out-weight = 1.0
in-weight = 1.0
competitor-ppm = 500
fee-ppm = 400
"#;

/// Every sender who wanted one of our channels, whatever became of them.
fn attempts(stats: &MarketStats) -> u64 {
    stats.senders
}

/// Runs the market in fee-cycle steps over the scenario; `each_step(network, step)` runs
/// before each step (set fees there). Returns the network and the attempts per step.
fn run(
    scenario: &Scenario,
    mut each_step: impl FnMut(&mut SimNetwork, u64),
) -> (SimNetwork, Vec<u64>) {
    let mut network = SimNetwork::new(scenario, None);
    let steps = u64::from(scenario.days) * DAY / STEP;
    let mut per_step = Vec::new();
    for step in 0..steps {
        each_step(&mut network, step);
        let before = attempts(network.stats());
        network.advance_to(scenario.start + (step + 1) * STEP);
        per_step.push(attempts(network.stats()) - before);
    }
    (network, per_step)
}

fn all_forwards(network: &SimNetwork) -> Vec<Forward> {
    network.forwards_created_since(0, u32::MAX).unwrap()
}

fn through(forwards: &[Forward], out: ShortChannelId) -> impl Iterator<Item = &Forward> {
    forwards.iter().filter(move |f| f.out_channel == Some(out))
}

fn set_fee(network: &mut SimNetwork, channel: ShortChannelId, ppm: u32) {
    network
        .set_channel_fee(&SetChannelFee {
            channel,
            fee_base: Msat::new(1000),
            fee_ppm: Ppm::new(ppm),
        })
        .unwrap();
}

#[test]
fn seasonality_moves_payments_to_busy_hours_and_days() {
    // Senders by day only (UTC 0–11 h), and never at the weekend; the run starts on a Thursday
    // at midnight.
    let market = r#"
[market.seasonality]
hourly = [1,1,1,1,1,1,1,1,1,1,1,1, 0,0,0,0,0,0,0,0,0,0,0,0]
weekly = [1,1,1,1,1,0,0]
"#;
    let seasonal = scenario(7, market, ROUTING, "");
    let (_, per_step) = run(&seasonal, |_, _| {});
    let (_, flat) = run(&scenario(7, "", ROUTING, ""), |_, _| {});
    let steps_per_day = (DAY / STEP) as usize;
    for (step, &count) in per_step.iter().enumerate() {
        let hour = step % steps_per_day * STEP as usize / HOUR as usize;
        let weekday = (step / steps_per_day + 3) % 7;
        if hour >= 12 || weekday >= 5 {
            assert_eq!(count, 0, "step {step}: hour {hour}, weekday {weekday}");
        }
    }
    // The same week's volume, moved in time.
    let (total, flat_total) = (per_step.iter().sum::<u64>(), flat.iter().sum::<u64>());
    assert!(
        total.abs_diff(flat_total) * 10 < flat_total,
        "{total} vs {flat_total}"
    );
}

#[test]
fn demand_shifts_apply_to_a_channel_a_list_a_tag_or_all() {
    let quiet = |scope: &str| {
        let event = format!(
            "[[event]]\nkind = \"demand-shift\"\n{scope}\nstart-day = 0.0\ndays = 2.0\nmultiplier = 0.0\n"
        );
        let (network, _) = run(&scenario(2, "", ROUTING, &event), |_, _| {});
        let forwards = all_forwards(&network);
        let ids = network.channel_ids();
        ids.iter()
            .map(|&id| through(&forwards, id).count())
            .collect::<Vec<_>>()
    };
    let silent = |counts: &[usize], expected: &[usize]| {
        for (index, &count) in counts.iter().enumerate() {
            assert_eq!(count == 0, expected.contains(&index), "{index}: {counts:?}");
        }
    };
    silent(&quiet("channel = 1"), &[1]);
    silent(&quiet("channels = [0, 3]"), &[0, 3]);
    silent(&quiet("tag = \"quiet\""), &[0, 2]);
    silent(&quiet("all = true"), &[0, 1, 2, 3]);
}

#[test]
fn inbound_and_outbound_demand_shift_separately() {
    let shift = |direction: &str| {
        let event = format!(
            "[[event]]\nkind = \"demand-shift\"\nchannel = 0\ndirection = \"{direction}\"\nstart-day = 0.0\ndays = 2.0\nmultiplier = 0.0\n"
        );
        let (network, _) = run(&scenario(2, "", ROUTING, &event), |_, _| {});
        let forwards = all_forwards(&network);
        let id = network.channel_ids()[0];
        let out = through(&forwards, id).count();
        let inc = forwards.iter().filter(|f| f.in_channel == id).count();
        (out, inc, attempts(network.stats()))
    };
    let (_, _, normal) = {
        let (network, _) = run(&scenario(2, "", ROUTING, ""), |_, _| {});
        (0, 0, attempts(network.stats()))
    };
    let (out, inc, outbound_quiet) = shift("out");
    assert!(out == 0 && inc > 0, "out {out}, in {inc}");
    let (out, inc, inbound_quiet) = shift("in");
    assert!(out > 0 && inc == 0, "out {out}, in {inc}");
    // A quarter of the inbound demand gone: about a quarter fewer payments.
    let ratio = inbound_quiet as f64 / normal as f64;
    assert!((0.68..0.82).contains(&ratio), "{ratio}");
    let ratio = outbound_quiet as f64 / normal as f64;
    assert!((0.68..0.82).contains(&ratio), "{ratio}");
    let (out, inc, _) = shift("both");
    assert_eq!((out, inc), (0, 0));
}

#[test]
fn payment_sizes_are_drawn_per_channel() {
    // A slow drain: channel 0 sees many small payments (median 2,000 sat).
    let channels = ROUTING.replacen(
        "tags = [\"quiet\"]",
        // No base fee: it would price small payments out and skew what routes.
        "tags = [\"quiet\"]\nbase-msat = 0\namount-median-sat = 2000\namount-sigma = 0.5",
        1,
    );
    let (network, _) = run(&scenario(2, "", &channels, ""), |_, _| {});
    let forwards = all_forwards(&network);
    let median_sat = |index: usize| {
        let mut sizes: Vec<u64> = through(&forwards, network.channel_ids()[index])
            .filter_map(|f| f.out_amount)
            .map(|a| a.msat() / 1000)
            .collect();
        sizes.sort_unstable();
        sizes[sizes.len() / 2]
    };
    assert!((1700..2300).contains(&median_sat(0)), "{}", median_sat(0));
    // The others keep the market's log-uniform 10,000–200,000 sat (median ≈ 44,700).
    assert!(
        (35_000..55_000).contains(&median_sat(1)),
        "{}",
        median_sat(1)
    );
}

/// Channel 0 with the competitor `competitor` (TOML lines) instead of the static default.
fn with_competitor(competitor: &str) -> String {
    ROUTING.replacen(
        "tags = [\"quiet\"]",
        &format!("tags = [\"quiet\"]\n[[channel.competitor]]\n{competitor}"),
        1,
    )
}

#[test]
fn a_competitor_that_runs_dry_sends_its_senders_to_us() {
    // A competitor at a tenth of our price takes nearly every sender — while it has liquidity.
    let settled_through_0 = |competitor: &str| {
        let (network, _) = run(
            &scenario(3, "", &with_competitor(competitor), ""),
            |_, _| {},
        );
        let forwards = all_forwards(&network);
        let settled = through(&forwards, network.channel_ids()[0])
            .filter(|f| f.status == ForwardStatus::Settled)
            .count();
        (settled, network)
    };
    let (unlimited, _) = settled_through_0("ppm = 40");
    let (finite, network) =
        settled_through_0("ppm = 40\nliquidity-sat = 3000000\nrefill-hours = 72.0");
    assert!(finite > 4 * unlimited.max(1), "{finite} vs {unlimited}");
    let left = network.competitor_liquidity(0)[0].unwrap();
    assert!(left < 1_000_000_000, "it ran dry: {left} msat left");
}

#[test]
fn competitors_reprice_by_their_policy_and_gossip_shows_it() {
    let gossip_fees = |network: &SimNetwork| {
        let peer = network.channels_peer_ids()[0].clone();
        let listed = network.gossip_channels_to(&peer).unwrap();
        let ours = network.channel_ids()[0];
        listed
            .iter()
            .filter(|c| c.short_channel_id != ours)
            .map(|c| c.fee_ppm.ppm())
            .collect::<Vec<_>>()
    };
    // Undercut: we are cheap (100 ppm) and take the route; it follows us down to its floor.
    let undercut = "policy = \"undercut\"\nppm = 800\nfloor-ppm = 150";
    let (network, _) = run(
        &scenario(1, "", &with_competitor(undercut), ""),
        |n, step| {
            if step == 0 {
                set_fee(n, n.channel_ids()[0], 100);
            }
        },
    );
    assert_eq!(gossip_fees(&network), [150]);
    assert_eq!(network.competitor_fees(0), [150]);

    // Price war: 6 hours in every 24 at a fifth of its fee; the run ends in the second war.
    let war = "policy = \"price-war\"\nppm = 1000\nperiod-hours = 24.0\nwar-hours = 6.0\nwar-factor = 0.2";
    let mut seen = Vec::new();
    let (network, _) = run(&scenario(2, "", &with_competitor(war), ""), |n, step| {
        if step % 6 == 0 {
            seen.push(n.competitor_fees(0)[0]);
        }
    });
    // The run ends as the third war starts.
    assert_eq!(gossip_fees(&network), [200]);
    assert!(seen[1..6].iter().all(|&f| f == 200), "{seen:?}");
    assert!(seen[7..24].iter().all(|&f| f == 1000), "{seen:?}");
    assert!(seen[25..30].iter().all(|&f| f == 200), "{seen:?}");

    // Follow-median: two of them, one following, towards the median of the other and ours.
    let follow = "policy = \"follow-median\"\nppm = 2000\n[[channel.competitor]]\nppm = 300";
    let (network, _) = run(&scenario(1, "", &with_competitor(follow), ""), |_, _| {});
    let fees = gossip_fees(&network);
    assert_eq!(fees.len(), 2);
    assert!((340..=360).contains(&fees[0]), "{fees:?}");
    assert_eq!(fees[1], 300);
}

#[test]
fn senders_avoid_a_channel_that_failed_them() {
    // Channel 0 accepts two HTLCs at a time and its senders hold them for minutes: it fails
    // senders often. Remembering senders stay away, so fewer fail on it.
    let channels = ROUTING.replacen(
        "tags = [\"quiet\"]",
        "tags = [\"quiet\"]\nmax-accepted-htlcs = 2",
        1,
    );
    let market = "hold-secs-min = 60\nhold-secs-max = 600\n";
    let with = |memory: &str| {
        let market = format!("{market}{memory}");
        let (network, _) = run(&scenario(3, &market, &channels, ""), |_, _| {});
        network.stats().clone()
    };
    let forgetful = with("");
    let remembering =
        with("[market.sender-memory]\nfailure-penalty = 0.5\nhalf-life-hours = 3.0\n");
    assert_eq!(forgetful.lost_to_sender_memory, 0);
    assert!(remembering.lost_to_sender_memory > 0);
    assert!(
        remembering.forwards_failed_local * 2 < forgetful.forwards_failed_local,
        "{} vs {}",
        remembering.forwards_failed_local,
        forgetful.forwards_failed_local
    );
}

#[test]
fn flapping_fees_lose_revenue_to_fee_insufficient_under_gossip_delay() {
    let delayed = "[market.gossip-delay]\nmin-minutes = 5.0\nmax-minutes = 60.0\n\
                   [market.sender-memory]\nfailure-penalty = 0.3\nhalf-life-hours = 2.0\n";
    // A fee that changes every cycle (300, 450, 600, 750, …) and one that keeps its 400.
    let flap = |n: &mut SimNetwork, step: u64| {
        for id in n.channel_ids() {
            set_fee(n, id, 300 + 150 * (step % 4) as u32);
        }
    };
    let steady = |_: &mut SimNetwork, _: u64| {};
    let (flapping, _) = run(&scenario(3, delayed, ROUTING, ""), flap);
    let (flapping_instant, _) = run(&scenario(3, "", ROUTING, ""), flap);
    let (steady_delayed, _) = run(&scenario(3, delayed, ROUTING, ""), steady);
    let (steady_instant, _) = run(&scenario(3, "", ROUTING, ""), steady);

    let failed = flapping.stats().forwards_failed_fee_insufficient;
    assert!(failed > 50, "{:?}", flapping.stats());
    assert_eq!(flapping_instant.stats().forwards_failed_fee_insufficient, 0);
    assert!(
        flapping.stats().fees_earned < flapping_instant.stats().fees_earned,
        "{} vs {}",
        flapping.stats().fees_earned,
        flapping_instant.stats().fees_earned
    );
    // Steady: gossip delay costs it nothing.
    assert_eq!(steady_delayed.stats().forwards_failed_fee_insufficient, 0);
    assert_eq!(steady_delayed.stats(), steady_instant.stats());
    // They are listed as lightningd lists them.
    let forwards = all_forwards(&flapping);
    let listed = forwards
        .iter()
        .filter(|f| {
            f.failure
                .as_ref()
                .is_some_and(|e| e.code == FEE_INSUFFICIENT)
        })
        .inspect(|f| assert_eq!(f.status, ForwardStatus::LocalFailed))
        .count() as u64;
    assert_eq!(listed, failed);
}

#[test]
fn a_mempool_spike_sends_payments_to_lightning() {
    let spike =
        "[[event]]\nkind = \"mempool-spike\"\nstart-day = 1.0\nhours = 12.0\nmultiplier = 4.0\n";
    let hourly = |market: &str| {
        let (_, per_step) = run(&scenario(2, market, ROUTING, spike), |_, _| {});
        let per_hour = |from: usize, hours: usize| {
            let steps = (HOUR / STEP) as usize;
            per_step[from * steps..(from + hours) * steps]
                .iter()
                .sum::<u64>() as f64
                / hours as f64
        };
        per_hour(24, 12) / per_hour(0, 24)
    };
    let pulled = hourly("onchain-demand-beta = 1.0\n");
    assert!((3.4..4.6).contains(&pulled), "{pulled}");
    let unmoved = hourly("");
    assert!((0.85..1.15).contains(&unmoved), "{unmoved}");
}
