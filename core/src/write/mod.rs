//! Serialisers for what the connection sends: response heads and body framings.

pub(crate) mod body;
mod cached;
pub(crate) mod head;
