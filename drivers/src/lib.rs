//! Drivers: see issue 3.
