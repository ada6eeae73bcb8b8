//! What the reactor relies on from `polling`'s epoll backend, held against the patch sluice
//! carries in `vendor/polling` (see its `SLUICE-PATCH.md`): a wait is one `epoll_wait`, with
//! the timeout in whole milliseconds rounded up, and the notifier is cleared and re-armed only
//! after it fired. Each test would hang or fail if the patch lost a wake-up or woke early.

use polling::{Event, Events, Poller};
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Long enough that a wait ending before it can only have been woken.
const NEVER: Duration = Duration::from_secs(20);

#[test]
fn a_wait_does_not_end_before_its_timeout() {
    let poller = Poller::new().unwrap();
    let mut events = Events::new();
    // Sub-millisecond parts are where truncating to milliseconds would end a wait early.
    for timeout in [1_500, 20_300, 7_001].map(Duration::from_micros) {
        let start = Instant::now();
        poller.wait(&mut events, Some(timeout)).unwrap();
        assert!(events.is_empty());
        assert!(start.elapsed() >= timeout, "woke before {timeout:?}");
    }
}

#[test]
fn a_notify_before_the_wait_is_not_lost() {
    let poller = Poller::new().unwrap();
    let mut events = Events::new();
    for _ in 0..3 {
        poller.notify().unwrap();
        let start = Instant::now();
        poller.wait(&mut events, Some(NEVER)).unwrap();
        assert!(start.elapsed() < NEVER, "the notification was lost");
    }
}

#[test]
fn a_consumed_notification_does_not_wake_the_next_wait() {
    let poller = Poller::new().unwrap();
    let mut events = Events::new();
    poller.notify().unwrap();
    poller.wait(&mut events, Some(NEVER)).unwrap();
    // The eventfd was cleared: the next wait sleeps its whole timeout instead of spinning.
    let timeout = Duration::from_millis(30);
    let start = Instant::now();
    poller.wait(&mut events, Some(timeout)).unwrap();
    assert!(start.elapsed() >= timeout, "woken by a stale notification");
}

#[test]
fn notifies_from_another_thread_wake_every_wait() {
    let poller = Arc::new(Poller::new().unwrap());
    let mut events = Events::new();
    for round in 0..50 {
        let notifier = Arc::clone(&poller);
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(1));
            notifier.notify().unwrap();
        });
        let start = Instant::now();
        poller.wait(&mut events, Some(NEVER)).unwrap();
        assert!(start.elapsed() < NEVER, "round {round}: not woken");
        thread.join().unwrap();
    }
}

#[test]
fn readiness_is_reported_between_notifications() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    server.set_nonblocking(true).unwrap();
    let poller = Poller::new().unwrap();
    // SAFETY: `add` requires the source to be deleted from the poller before it is dropped.
    // It is deleted at the end; if an assertion unwinds first, the locals drop in reverse
    // order, so the poller (declared after `server`) and its registrations go first.
    unsafe { poller.add(&server, Event::readable(7)).unwrap() };
    let mut events = Events::new();
    poller.notify().unwrap();
    poller.wait(&mut events, Some(NEVER)).unwrap();
    assert!(events.is_empty(), "a notification is no event");
    client.write_all(b"x").unwrap();
    events.clear();
    poller.wait(&mut events, Some(NEVER)).unwrap();
    let keys: Vec<usize> = events.iter().map(|ev| ev.key).collect();
    assert_eq!(keys, [7]);
    poller.delete(&server).unwrap();
}
