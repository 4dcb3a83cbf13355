//! Versioned schema migrations, one list per backend, run when a store is
//! opened: [`sqlite`] and [`postgres`] hold the same steps with the same
//! numbers, each in its own dialect, so version N means the same tables
//! and columns in both. Read the two files side by side when adding a
//! step; the assertion below keeps their lengths equal.
//!
//! Never edit a step that shipped; add one to both lists.

pub mod postgres;
pub(crate) mod sqlite;

/// The newest schema version this build knows, in either backend.
pub const CURRENT: i64 = sqlite::MIGRATIONS.len() as i64;

// A step added to one backend only would make "version N" mean two
// different schemas.
const _: () = assert!(sqlite::MIGRATIONS.len() == postgres::MIGRATIONS.len());
