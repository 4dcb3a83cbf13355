//! Versioned schema migrations, one list per backend, run when a store is
//! opened; each backend's file holds its steps in its own dialect, with
//! the same numbers, so version N means the same tables and columns in
//! every backend.
//!
//! Never edit a step that shipped; add one.

pub(crate) mod sqlite;

/// The newest schema version this build knows, in either backend.
pub const CURRENT: i64 = sqlite::MIGRATIONS.len() as i64;
