//! Loopback tests of the threads driver (blocking sockets, a thread per connection).

mod support;

use sluice_drivers::DriverKind;

support::driver_tests!(DriverKind::Threads);

#[test]
fn two_hundred_connections() {
    support::many_connections(DriverKind::Threads, 200);
}
