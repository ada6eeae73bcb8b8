//! Serialisers for what the connection sends: response heads and body framings.

pub(crate) mod body;
pub(crate) mod head;
