//! Requests and responses built by the gateway.

use super::support::{alice, bob, uri};
use crate::msrp::{
    ByteRange, Continuation, FailureReport, Method, MsrpError, Request, Response, Status,
};

#[test]
fn response_goes_back_one_hop() {
    // RFC 4975 §7.2: only the previous hop and the responder appear.
    let relay = uri("msrps://relay.example.net:2855/r1;tcp");
    let mut send = Request::send(
        "tid12345",
        vec![bob()],
        vec![relay.clone(), alice()],
        "m1234",
        "text/plain",
        b"x".to_vec(),
    );
    send.to_path = vec![bob(), uri("msrp://extra.example/zz;tcp")];
    let response = Response::to_request(&send, 413, Some("Stop"));
    assert_eq!(response.transaction_id, "tid12345");
    assert_eq!(response.to_path, vec![relay]);
    assert_eq!(response.from_path, vec![bob()]);
    assert_eq!(
        (response.code, response.comment.as_deref()),
        (413, Some("Stop"))
    );
    assert_eq!(response.continuation, Continuation::Complete);
}

#[test]
fn report_for_a_send_goes_back_along_the_whole_from_path() {
    let relay = uri("msrps://relay.example.net:2855/r1;tcp");
    let send = Request::send(
        "tid12345",
        vec![bob()],
        vec![relay.clone(), alice()],
        "m1234",
        "text/plain",
        b"hello".to_vec(),
    );
    let report = Request::report_for(
        &send,
        "rep12345",
        ByteRange::whole(5),
        Status::new(200, Some("OK")),
    )
    .unwrap();
    assert_eq!(report.method, Method::Report);
    assert_eq!(report.to_path, vec![relay, alice()]);
    assert_eq!(report.from_path, vec![bob()]);
    assert_eq!(report.message_id.as_deref(), Some("m1234"));
    assert_eq!(report.byte_range, Some(ByteRange::whole(5)));
    assert!(report.body.is_empty() && report.content_type.is_none());

    let mut anonymous = send.clone();
    anonymous.message_id = None;
    assert_eq!(
        Request::report_for(
            &anonymous,
            "rep12345",
            ByteRange::whole(5),
            Status::new(200, None)
        ),
        Err(MsrpError::MissingHeader("Message-ID"))
    );
}

#[test]
fn whether_to_respond_follows_the_failure_report() {
    let mut send = Request::send(
        "tid12345",
        vec![bob()],
        vec![alice()],
        "m1234",
        "text/plain",
        vec![],
    );
    assert!(send.expects_response(200));
    send.failure_report = Some(FailureReport::Partial);
    assert!(!send.expects_response(200));
    assert!(send.expects_response(413));
    send.failure_report = Some(FailureReport::No);
    assert!(!send.expects_response(400));
    let report = Request::report(
        "rep12345",
        vec![alice()],
        vec![bob()],
        "m1234",
        ByteRange::whole(0),
        Status::new(200, None),
    );
    assert!(!report.expects_response(200));
}
