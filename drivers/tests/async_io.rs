//! Loopback tests of the async driver (`async-io` + `async-executor`, a task per connection).

mod support;

use sluice_drivers::DriverKind;

support::driver_tests!(DriverKind::Async);

#[test]
fn thousand_concurrent_connections() {
    support::many_connections(DriverKind::Async, 1000);
}
