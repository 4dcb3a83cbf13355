//! `interwork_proto::imdn::parse_xml` on arbitrary bytes (quick-xml's
//! `NsReader` with the refusals of `imdn`, and the RFC 5438 document rules).
//!
//! Checks: no panic; a parsed notification can be written, except when its
//! `<datetime>` cannot be formatted again (`format_rfc3339` refuses local
//! years past 9999, which a leap second on 9999-12-31 reaches; a documented
//! error, not a crash); and `parse_xml(write_xml(n)) == n` (documented in
//! `imdn`).

use interwork_proto::imdn::{self, ImdnError};

/// One fuzz input.
pub fn run(data: &[u8]) {
    let Ok(first) = imdn::parse_xml(data) else {
        return;
    };
    let mut wire = Vec::new();
    match imdn::write_xml(&first, &mut wire) {
        Ok(()) => {}
        Err(ImdnError::Time(_)) => return,
        Err(error) => panic!("a parsed notification cannot be written: {error}"),
    }
    let second = match imdn::parse_xml(&wire) {
        Ok(second) => second,
        Err(error) => panic!(
            "written notification does not parse again: {error}\nwritten: {:?}",
            String::from_utf8_lossy(&wire)
        ),
    };
    assert_eq!(
        second,
        first,
        "parse_xml(write_xml(parse_xml(x))) != parse_xml(x)\nwritten: {:?}",
        String::from_utf8_lossy(&wire)
    );
}
