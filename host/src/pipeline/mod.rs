//! The two directions of the gateway, each read step by step like the
//! SPEC: receive → resolve addresses (mapping plugin) → convert (conversion
//! plugin) → deliver → answer the sender.

mod im_in;
pub mod im_to_email;
mod refusal;

pub use im_in::{ACCEPTED_TYPES, im_from_content};
pub use im_to_email::ImToEmail;
pub use refusal::Refusal;
