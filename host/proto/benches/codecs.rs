//! Cost of the wire formats on the hot path: a SIP MESSAGE (RFC 3428 §4),
//! an MSRP SEND (RFC 4975 §7.1) and a CPIM message (RFC 3862 §6), each
//! parsed from the bytes of its RFC example and written back; and an IM's
//! multipart content (RFC 2046) read into its tree and written again.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use interwork_proto::mime::entity;
use interwork_proto::{cpim, msrp, sip};

fn vector(path: &str) -> Vec<u8> {
    let full = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/");
    std::fs::read(format!("{full}{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn codecs(c: &mut Criterion) {
    let message = vector("sip/rfc3428-message");
    let limits = sip::Limits::default();
    let parsed = sip::parse_datagram(&message, &limits).expect("the RFC 3428 example parses");
    let mut group = c.benchmark_group("sip");
    group.throughput(Throughput::Bytes(message.len() as u64));
    group.bench_function("parse MESSAGE (RFC 3428)", |b| {
        b.iter(|| sip::parse_datagram(black_box(&message), &limits).unwrap())
    });
    group.bench_function("write MESSAGE", |b| {
        let mut out = Vec::with_capacity(1024);
        b.iter(|| {
            out.clear();
            sip::write(black_box(&parsed), &mut out);
            out.len()
        })
    });
    group.finish();

    let send = vector("msrp/rfc4975-s7.1-send");
    let limits = msrp::Limits::default();
    let (frame, _) = msrp::parse(&send, &limits)
        .expect("the RFC 4975 example parses")
        .expect("whole");
    let mut group = c.benchmark_group("msrp");
    group.throughput(Throughput::Bytes(send.len() as u64));
    group.bench_function("parse SEND (RFC 4975 §7.1)", |b| {
        b.iter(|| msrp::parse(black_box(&send), &limits).unwrap())
    });
    group.bench_function("write SEND", |b| {
        let mut out = Vec::with_capacity(1024);
        b.iter(|| {
            out.clear();
            msrp::write(black_box(&frame), &mut out);
            out.len()
        })
    });
    group.finish();

    let text = vector("cpim/rfc3862-s6-example");
    let parsed = cpim::parse(&text).expect("the RFC 3862 example parses");
    let mut group = c.benchmark_group("cpim");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("parse (RFC 3862 §6)", |b| {
        b.iter(|| cpim::parse(black_box(&text)).unwrap())
    });
    group.bench_function("write", |b| {
        let mut out = Vec::with_capacity(1024);
        b.iter(|| {
            out.clear();
            cpim::write(black_box(&parsed), &mut out).unwrap();
            out.len()
        })
    });
    group.finish();

    // An RCS text + PNG MESSAGE body: read into its tree, written in the
    // canonical form plugins see (issue 14).
    let vector = vector("mime_entity/rcs-text-and-png");
    let split = vector
        .iter()
        .position(|&b| b == b'\n')
        .expect("a Content-Type line");
    let content_type = std::str::from_utf8(&vector[..split]).expect("UTF-8");
    let body = &vector[split + 1..];
    let tree = entity::parse(content_type, body).expect("the vector parses");
    let mut group = c.benchmark_group("mime entity");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("parse text + PNG", |b| {
        b.iter(|| entity::parse(black_box(content_type), black_box(body)).unwrap())
    });
    group.bench_function("write canonical", |b| {
        let mut out = Vec::with_capacity(1024);
        b.iter(|| {
            out.clear();
            entity::write(black_box(&tree), "bench", &mut out).unwrap()
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500));
    targets = codecs
}
criterion_main!(benches);
