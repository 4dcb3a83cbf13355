use std::net::IpAddr;

use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};

use super::*;

async fn gate(limits: ConnectionLimits) -> Gate {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    Gate::new("test", listener, limits)
}

#[tokio::test]
async fn past_the_per_source_limit_a_connection_is_refused_and_its_slot_not_held() {
    let mut gate = gate(ConnectionLimits {
        total: 10,
        per_source: 2,
    })
    .await;
    let address = gate.local_addr().unwrap();
    let mut clients = Vec::new();
    let mut slots = Vec::new();
    for _ in 0..2 {
        clients.push(TcpStream::connect(address).await.unwrap());
        match gate.next().await {
            Arrival::Admitted { slot, .. } => slots.push(slot),
            other => panic!("refused under the limit: {other:?}"),
        }
    }
    let mut third = TcpStream::connect(address).await.unwrap();
    match gate.next().await {
        Arrival::Refused { stream, why, .. } => {
            assert_eq!(why, Refusal::PerSource);
            answer_and_drop(stream, b"421 busy\r\n");
        }
        other => panic!("admitted past the limit: {other:?}"),
    }
    let mut told = Vec::new();
    third.read_to_end(&mut told).await.unwrap();
    assert_eq!(told, b"421 busy\r\n", "refused and closed at once");
    let loopback: IpAddr = [127, 0, 0, 1].into();
    assert_eq!(gate.admission().held(loopback), (2, 2));
    slots.pop();
    let _again = TcpStream::connect(address).await.unwrap();
    assert!(matches!(gate.next().await, Arrival::Admitted { .. }));
}

#[tokio::test]
async fn a_source_not_allowed_is_refused_at_accept() {
    let mut gate = gate(ConnectionLimits {
        total: 10,
        per_source: 10,
    })
    .await
    .allow_only(vec![[192, 0, 2, 9].into()]);
    let _client = TcpStream::connect(gate.local_addr().unwrap())
        .await
        .unwrap();
    match gate.next().await {
        Arrival::Refused { why, .. } => assert_eq!(why, Refusal::Untrusted),
        other => panic!("an untrusted source got in: {other:?}"),
    }
}
