//! `interwork_proto::sdp::parse` on arbitrary bytes.
//!
//! Checks: no panic (parser, the MSRP accessors and `answer_msrp`); a parsed
//! description can be written (the writer refuses only what the parser
//! never produces); and `parse(write(d)) == d` (documented in `sdp`).
//! When the gateway can
//! answer the description as an offer, the answer (built from parsed
//! values) must be writable and round-trip too.

use std::net::{IpAddr, Ipv6Addr};

use interwork_proto::sdp::{self, MsrpAnswerParams, SessionDescription};

fn poke(description: &SessionDescription) {
    let _ = description.msrp_media();
    for media in &description.media {
        let _ = media.is_msrp();
        let _ = media.is_tls();
        let _ = description.setup_of(media);
        let _ = description.direction_of(media);
    }
}

/// The description `parse(write(d))` gives must equal `d`.
fn round_trip(what: &str, description: &SessionDescription) {
    let mut wire = Vec::new();
    if let Err(error) = sdp::write(description, &mut wire) {
        panic!("{what} cannot be written: {error}");
    }
    let again = match sdp::parse(&wire) {
        Ok(again) => again,
        Err(error) => panic!(
            "{what} does not parse again once written: {error}\nwritten: {:?}",
            String::from_utf8_lossy(&wire)
        ),
    };
    assert_eq!(
        &again,
        description,
        "{what}: parse(write(d)) != d\nwritten: {:?}",
        String::from_utf8_lossy(&wire)
    );
}

fn answer_params(path: &str) -> MsrpAnswerParams {
    MsrpAnswerParams {
        origin_user: "interwork".to_owned(),
        session_id: 1,
        session_version: 1,
        address: IpAddr::V6(Ipv6Addr::LOCALHOST),
        port: 2855,
        path: path.to_owned(),
        accept_types: vec!["message/cpim".to_owned(), "text/plain".to_owned()],
        accept_wrapped_types: vec!["text/plain".to_owned()],
        max_size: Some(65_536),
    }
}

/// One fuzz input.
pub fn run(data: &[u8]) {
    let Ok(first) = sdp::parse(data) else {
        return;
    };
    poke(&first);

    round_trip("a parsed description", &first);

    for path in [
        "msrp://[::1]:2855/gw1;tcp",
        "msrps://gw.example.com:2855/gw1;tcp",
    ] {
        if let Ok(answer) = sdp::answer_msrp(&first, &answer_params(path)) {
            round_trip("the answer to a parsed offer", &answer);
        }
    }
}
