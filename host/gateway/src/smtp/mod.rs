//! SMTP both ways: the server that is the MX of the gateway's domains
//! (`server`, RFC 5321), and the client that hands mail made from IMs to
//! the recipient's mail system found by DNS MX (`client`).

pub mod client;
pub mod server;
