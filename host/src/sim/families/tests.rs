use super::*;

#[test]
fn every_family_is_deterministic_valid_and_round_trips() {
    for (family, _) in FAMILIES {
        for seed in [1, 2, 77] {
            let scenario = generate(family, seed).unwrap();
            assert_eq!(scenario.seed, seed);
            scenario.validate().unwrap();
            assert_eq!(Some(&scenario), generate(family, seed).as_ref());
            let text = to_toml(&scenario, family);
            let back: Scenario = toml::from_str(&text).unwrap();
            back.validate().unwrap();
            assert_eq!(back, scenario, "{family} {seed}");
        }
    }
    assert!(generate("nope", 1).is_none());
}

#[test]
fn families_draw_what_they_promise() {
    let sizes = |family: &'static str| {
        (0..10).map(move |seed| {
            let s = generate(family, seed).unwrap();
            s.channels.iter().filter(|c| c.open_day.is_none()).count()
        })
    };
    assert!(sizes("small-retail").all(|n| (10..=30).contains(&n)));
    assert!(sizes("routing-hub").all(|n| (100..=300).contains(&n)));
    let jammed = generate("jammed", 3).unwrap();
    let floods = jammed
        .events
        .iter()
        .filter(|e| matches!(e, Event::Flood(_)))
        .count();
    assert!(floods >= 4);
    let siege = generate("volatile-mempool", 3).unwrap();
    assert!(
        siege
            .events
            .iter()
            .any(|e| matches!(e, Event::MempoolSpike { hours, .. } if *hours >= 48.0))
    );
    let sinks = |family: &str| {
        (0..10)
            .map(|seed| {
                let s = generate(family, seed).unwrap();
                s.channels
                    .iter()
                    .filter(|c| c.out_weight > 0.5 && c.in_weight < 0.31)
                    .count() as f64
                    / s.channels.len() as f64
            })
            .sum::<f64>()
    };
    assert!(sinks("sink-heavy") > 2.0 * sinks("small-retail"));
}

#[test]
fn every_family_draws_the_demand_side() {
    use crate::sim::scenario::CompetitorPolicy;
    for (family, _) in FAMILIES {
        let mut policies = [0; 4];
        for seed in 1..=6 {
            let s = generate(family, seed).unwrap();
            let m = &s.market;
            let season = m.seasonality.as_ref().unwrap();
            assert_eq!((season.hourly.len(), season.weekly.len()), (24, 7));
            let (low, high) = season
                .hourly
                .iter()
                .fold((f64::MAX, 0.0f64), |(l, h), &x| (l.min(x), h.max(x)));
            assert!(high > low * 1.15, "{family} {seed}: days and nights differ");
            assert_ne!(season.weekly[5], season.weekly[0], "weekends differ");
            let memory = m.sender_memory.as_ref().unwrap();
            assert!((0.2..=0.5).contains(&memory.failure_penalty));
            assert!((1.0..=4.0).contains(&memory.half_life_hours));
            let delay = m.gossip_delay.as_ref().unwrap();
            assert!(2.0 <= delay.min_minutes && delay.max_minutes <= 60.0);
            if *family == "volatile-mempool" {
                assert!(m.onchain_demand_beta >= 0.5, "{seed}");
            } else {
                assert!((0.0..=0.2).contains(&m.onchain_demand_beta));
            }
            let mut medians = Vec::new();
            for c in &s.channels {
                assert!(
                    (1..=4).contains(&c.competitors.len()),
                    "{family} {}",
                    c.label
                );
                for competitor in &c.competitors {
                    assert!(competitor.liquidity_sat.is_some_and(|l| l > 0));
                    assert!((0.6..=1.6).contains(&competitor.ppm_factor));
                    policies[competitor.policy as usize] += 1;
                }
                if c.out_weight > 0.0 {
                    medians.push(c.amount_median_sat.unwrap());
                    assert!(c.amount_sigma.is_some());
                }
                assert_eq!(c.tags.len(), 1, "each channel is tagged with its kind");
            }
            medians.sort_unstable();
            medians.dedup();
            assert!(
                medians.len() > 3,
                "{family} {seed}: sizes differ per channel"
            );
        }
        assert!(policies.iter().all(|&n| n > 0), "{family}: {policies:?}");
        assert!(policies[CompetitorPolicy::Static as usize] < policies.iter().sum::<usize>());
    }
    // Across the families and seeds, shifts are scoped every way and move both directions.
    let shifts: Vec<Event> = FAMILIES
        .iter()
        .flat_map(|(family, _)| (1..=6).map(move |seed| generate(family, seed).unwrap()))
        .flat_map(|s| s.events)
        .filter(|e| matches!(e, Event::DemandShift { .. }))
        .collect();
    let any = |wanted: fn(&Event) -> bool| shifts.iter().any(wanted);
    assert!(any(|e| matches!(
        e,
        Event::DemandShift { tag: Some(_), .. }
    )));
    assert!(any(|e| matches!(e, Event::DemandShift { all: true, .. })));
    assert!(any(
        |e| matches!(e, Event::DemandShift { channels, .. } if !channels.is_empty())
    ));
    assert!(any(
        |e| matches!(e, Event::DemandShift { direction, .. } if direction.inbound())
    ));
}

#[test]
fn the_toml_writes_the_demand_side_and_competitors_by_what_differs() {
    let scenario = generate("routing-hub", 2).unwrap();
    let text = to_toml(&scenario, "routing-hub");
    for table in [
        "[market.seasonality]",
        "[market.sender-memory]",
        "[market.gossip-delay]",
        "[[channel.competitor]]",
    ] {
        assert!(text.contains(table), "{table}");
    }
    // A static competitor is written without the other policies' parameters.
    let first = text.split("[[channel.competitor]]").nth(1).unwrap();
    if first.contains("policy = \"static\"") {
        assert!(!first.contains("war-hours"));
    }
    let back: Scenario = toml::from_str(&text).unwrap();
    assert_eq!(back, scenario);
}
