//! The two directions of the gateway, each read step by step like the
//! SPEC: receive → resolve addresses (mapping plugin) → convert (conversion
//! plugin) → deliver → answer the sender.

mod answer;
pub mod email_to_im;
mod im_in;
pub mod im_to_email;
pub mod large_message;

pub use answer::Answer;
pub use im_in::{ACCEPTED_TYPES, im_from_content, sender_of};
pub use im_to_email::ImToEmail;
