//! The two directions of the gateway, each read step by step like the
//! SPEC: receive → resolve addresses (mapping plugin) → convert (conversion
//! plugin) → deliver → answer the sender. A flow only calls: the wire
//! formats are in `im`, `mail` and `interwork_proto`, the transports in
//! `sip`, `msrp` and `smtp`, the answers in `outcome`.

pub mod email_to_im;
pub mod im_to_email;

#[cfg(test)]
mod tests;
