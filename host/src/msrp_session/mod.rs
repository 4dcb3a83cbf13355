//! Large-message mode on the receiving side (SPEC S4): the MSRP sessions
//! that SIP INVITEs set up, and the TCP listener their SEND requests arrive
//! on (RFC 4975; connection setup per RFC 4975 §5.4 and RFC 6135: the
//! gateway answers `a=setup:passive` and the IM side connects).

mod listener;
mod registry;

pub use listener::{MessageSink, MsrpServer};
pub use registry::{Session, Sessions};
