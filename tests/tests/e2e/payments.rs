//! revops' lightningd client for circular rebalances (`invoice`, `getroutes`, `sendpay`,
//! `waitsendpay`, `listsendpays`), against the stand-in's socket.

use revops::{
    money::Msat,
    node::{ClnNode, Node, NodeChannel, NodeError, PaymentStatus, RouteHop, RouteRequest},
};
use revops_tests::standin::{serve_socket, simulated_node};
use serde_json::json;
use std::time::Duration;

fn connect(socket: &std::path::Path, runtime: &tokio::runtime::Runtime) -> ClnNode {
    runtime
        .block_on(ClnNode::connect(socket, Duration::from_secs(10)))
        .expect("connects")
}

/// Our hop out to the source peer, the route found between the peers, our hop back in.
fn circular_route(
    node: &ClnNode,
    out: &NodeChannel,
    back: &NodeChannel,
    amount: Msat,
) -> Vec<RouteHop> {
    let routes = node
        .get_routes(&RouteRequest {
            source: out.peer_id.clone(),
            destination: back.peer_id.clone(),
            amount,
            max_fee: Msat::new(amount.msat() / 100),
            layers: vec![],
            final_cltv: 18,
        })
        .expect("a route between the peers");
    let found = &routes[0].hops;
    let mut route = vec![RouteHop {
        node_id: out.peer_id.clone(),
        channel: out.short_channel_id.unwrap(),
        amount: found[0].amount_in,
        delay: found[0].cltv_in + 6,
    }];
    route.extend(found.iter().map(|hop| RouteHop {
        node_id: hop.node_out.clone(),
        channel: hop.channel,
        amount: hop.amount_out,
        delay: hop.cltv_out + 6,
    }));
    route.push(RouteHop {
        node_id: node.info().unwrap().id,
        channel: back.short_channel_id.unwrap(),
        amount,
        delay: 6,
    });
    route
}

#[test]
fn a_circular_rebalance_moves_liquidity_and_books_the_fee() {
    let socket = serve_socket(simulated_node(4));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut node = connect(&socket.path, &runtime);
    let channels = node.channels().unwrap();
    let (out, back) = (&channels[0], &channels[1]);
    let amount = Msat::from_sat(100_000).unwrap();

    let invoice = node.create_invoice(amount, "rebalance-1", "test").unwrap();
    assert_eq!(invoice.payment_hash.len(), 64);
    let route = circular_route(&node, out, back, amount);
    let sent = node
        .send_pay(&route, &invoice, amount, "rebalance-1")
        .unwrap();
    assert_eq!(sent.status, PaymentStatus::Pending);
    let done = node.wait_send_pay(&invoice.payment_hash, 10).unwrap();
    assert_eq!(done.status, PaymentStatus::Complete, "{done:?}");
    assert!(
        done.fee() > Msat::ZERO && done.fee() < Msat::from_sat(100).unwrap(),
        "{done:?}"
    );

    let after = node.channels().unwrap();
    assert_eq!(
        after[0].to_us,
        out.to_us.checked_sub(done.amount_sent).unwrap()
    );
    assert_eq!(after[1].to_us, back.to_us.checked_add(amount).unwrap());
    let listed = node.list_send_pays(&invoice.payment_hash).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].status, PaymentStatus::Complete);
    // The request went out in lightningd's shape.
    let sendpay = &socket.daemon.lock().unwrap().calls_of("sendpay")[0];
    assert_eq!(sendpay["route"].as_array().unwrap().len(), 3);
    assert_eq!(sendpay["label"], "rebalance-1");
}

#[test]
fn a_failed_rebalance_reports_the_failing_channel() {
    let socket = serve_socket(simulated_node(4));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut node = connect(&socket.path, &runtime);
    let channels = node.channels().unwrap();
    let (out, back) = (&channels[2], &channels[1]);
    // Far more than the source channel holds.
    let amount = Msat::from_sat(9_000_000).unwrap();
    let invoice = node.create_invoice(amount, "too-big", "test").unwrap();
    let route = circular_route(&node, out, back, amount);
    node.send_pay(&route, &invoice, amount, "too-big").unwrap();
    let failed = node.wait_send_pay(&invoice.payment_hash, 10).unwrap();
    assert_eq!(failed.status, PaymentStatus::Failed);
    assert!(
        failed
            .failure
            .as_deref()
            .unwrap()
            .contains("WIRE_TEMPORARY_CHANNEL_FAILURE"),
        "{failed:?}"
    );
    assert_eq!(failed.erring_channel, out.short_channel_id);
    assert_eq!(
        node.channels().unwrap()[2].to_us,
        out.to_us,
        "nothing moved"
    );
}

#[test]
fn bad_payment_requests_keep_lightningds_errors() {
    let socket = serve_socket(simulated_node(3));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut node = connect(&socket.path, &runtime);
    let unknown = "ab".repeat(32);
    match node.wait_send_pay(&unknown, 1) {
        Err(NodeError::Rpc { code: 208, .. }) => {}
        other => panic!("expected lightningd's 208, got {other:?}"),
    }
    node.create_invoice(Msat::new(1000), "dup", "x").unwrap();
    match node.create_invoice(Msat::new(1000), "dup", "x") {
        Err(NodeError::Rpc { code: 900, message }) => assert!(message.contains("Duplicate")),
        other => panic!("{other:?}"),
    }
    // A malformed hash never reaches lightningd: cln-rpc's typed request refuses it.
    assert!(matches!(
        node.list_send_pays("not-hex"),
        Err(NodeError::Protocol { .. })
    ));
}

#[test]
fn the_rebalance_executor_works_over_lightningds_socket() {
    use revops::{
        rebalance::{RebalanceOrder, RebalanceOutcome, execute},
        store::Store,
    };
    let socket = serve_socket(simulated_node(4));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut node = connect(&socket.path, &runtime);
    let mut store = Store::open_in_memory().unwrap();
    let channels = node.channels().unwrap();
    // The peer's fee back to us comes from listpeerchannels' updates.remote.
    assert!(channels[1].remote_fee.is_some());
    let order = RebalanceOrder {
        source: channels[0].short_channel_id.unwrap(),
        destination: channels[1].short_channel_id.unwrap(),
        amount: Msat::from_sat(150_000).unwrap(),
        max_fee: Msat::from_sat(1_000).unwrap(),
        label: "executor-1".into(),
        kind: revops::model::RebalanceKind::Normal,
        reservation: None,
    };
    let outcome = execute(&mut node, &mut store, &order, 10).unwrap();
    // 1 sat + 10 ppm back to us, 1 sat + 500 ppm through the network.
    assert_eq!(
        outcome,
        RebalanceOutcome::Completed {
            amount: order.amount,
            fee: Msat::new(2_500 + 76_001)
        }
    );
    let calls = socket.daemon.lock().unwrap().calls_of("sendpay");
    let route = calls[0]["route"].as_array().unwrap();
    assert_eq!(route.len(), 3, "out, through the network, back in");
    assert_eq!(route[0]["channel"], order.source.to_string());
    assert_eq!(route[2]["channel"], order.destination.to_string());

    // Routes are asked for in a layer where askrene may not use our own node (made once).
    let daemon = socket.daemon.lock().unwrap();
    let our_id = daemon.node.info().unwrap().id;
    let created = daemon.calls_of("askrene-create-layer");
    assert_eq!(
        created,
        vec![json!({ "layer": "revops-rebalance", "persistent": false })]
    );
    assert_eq!(
        daemon.calls_of("askrene-disable-node"),
        vec![json!({ "layer": "revops-rebalance", "node": our_id })]
    );
    assert_eq!(
        daemon.calls_of("getroutes")[0]["layers"],
        json!(["revops-rebalance"])
    );
    drop(daemon);
    let again = RebalanceOrder {
        label: "executor-2".into(),
        ..order.clone()
    };
    execute(&mut node, &mut store, &again, 10).unwrap();
    let daemon = socket.daemon.lock().unwrap();
    assert_eq!(
        daemon.calls_of("askrene-create-layer").len(),
        1,
        "the layer is kept"
    );
    assert_eq!(daemon.calls_of("askrene-disable-node").len(), 1);
    assert_eq!(daemon.calls_of("askrene-listlayers").len(), 2);
}
