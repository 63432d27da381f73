//! Decide: the desk's business logic. Pure: from a mail, its classification,
//! what the store knows and `now`, produce effects.

pub mod rulebook;
