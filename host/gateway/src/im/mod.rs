//! The IM side's messages, both ways, mirroring `crate::mail`:
//!
//! * `incoming` — a SIP MESSAGE body or a complete MSRP message (CPIM
//!   unwrapped, RFC 3862; IMDN requests, RFC 5438) as the plugin contract's
//!   `im-message`;
//! * `outgoing` — the `im-message` a conversion plugin made from a mail as
//!   the SIP request that carries it (CPIM, IMDN), routed to the IM system
//!   that serves the recipient and sent in pager or large-message mode.
//! * `file_transfer` — RCS file transfer via HTTP (RCC.07 §3.2.5): the file
//!   fetched and attached, or its link;
//! * `typing` — typing indications (RFC 3994), answered and dropped.

pub mod file_transfer;
pub mod incoming;
pub mod outgoing;
pub mod typing;

use interwork_plugin_host::bindings::types::Dispositions;
use interwork_proto::imdn;

/// The contract's IMDN requests and the wire's, flag for flag.
const DISPOSITIONS: [(Dispositions, imdn::Dispositions); 3] = [
    (
        Dispositions::POSITIVE_DELIVERY,
        imdn::Dispositions::POSITIVE_DELIVERY,
    ),
    (
        Dispositions::NEGATIVE_DELIVERY,
        imdn::Dispositions::NEGATIVE_DELIVERY,
    ),
    (Dispositions::DISPLAY, imdn::Dispositions::DISPLAY),
];

/// The IMDN requests of an `im-message` as RFC 5438 §6.2 writes them.
pub fn wire_dispositions(asked: Dispositions) -> imdn::Dispositions {
    let mut wire = imdn::Dispositions::NONE;
    for (ours, theirs) in DISPOSITIONS {
        if asked.contains(ours) {
            wire.insert(theirs);
        }
    }
    wire
}

/// The IMDN requests read from the wire, as the contract has them.
pub fn contract_dispositions(wire: imdn::Dispositions) -> Dispositions {
    DISPOSITIONS
        .into_iter()
        .filter(|(_, theirs)| wire.contains(*theirs))
        .fold(Dispositions::empty(), |asked, (ours, _)| asked | ours)
}
