//! `interwork_proto::cpim::parse` on arbitrary bytes.
//!
//! Checks: no panic (parser and every accessor, including the IMDN helpers
//! that read CPIM headers); a parsed message can be written (the writer
//! checks headers "with the same rules the parser applies"); and
//! `parse(write(m)) == m` (documented in `cpim`).

use interwork_proto::cpim::{self, CPIM_HEADERS_URN, CpimMessage};
use interwork_proto::imdn;

fn poke(message: &CpimMessage) {
    let _ = message.from();
    let _ = message.to();
    let _ = message.cc();
    let _ = message.date_time();
    let _ = message.subject();
    let _ = message.content_type();
    for (index, header) in message.headers.iter().enumerate() {
        let _ = message.namespace_of(index);
        let _ = message.get_ns(CPIM_HEADERS_URN, &header.name);
        let _ = header.decoded_value();
        let _ = header.lang();
    }
    let _ = imdn::message_id_of(message);
    let _ = imdn::dispositions_of(message);
}

/// One fuzz input.
pub fn run(data: &[u8]) {
    let Ok(first) = cpim::parse(data) else {
        return;
    };
    poke(&first);

    let mut wire = Vec::new();
    if let Err(error) = cpim::write(&first, &mut wire) {
        panic!("a parsed message cannot be written: {error}");
    }
    let second = match cpim::parse(&wire) {
        Ok(second) => second,
        Err(error) => panic!(
            "written message does not parse again: {error}\nwritten: {:?}",
            String::from_utf8_lossy(&wire)
        ),
    };
    assert_eq!(
        second,
        first,
        "parse(write(parse(x))) != parse(x)\nwritten: {:?}",
        String::from_utf8_lossy(&wire)
    );
}
