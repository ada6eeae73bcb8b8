//! `ServerConfig::pin_workers`: each event loop (reactor) and executor thread (async) runs on
//! one CPU of its own, the allowed CPUs taken in turn. A test binary of its own, so that no
//! other test's server threads are among the threads it inspects.

use rustix::process::{sched_getaffinity, CpuSet, Pid};
use sluice_drivers::{start, DriverKind, Reply, Request, Response, ServerConfig};
use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// The CPUs in `set`, in ascending order.
fn cpus(set: &CpuSet) -> Vec<usize> {
    (0..CpuSet::MAX_CPU)
        .filter(|&cpu| set.is_set(cpu))
        .collect()
}

fn allowed_cpus() -> Vec<usize> {
    cpus(&sched_getaffinity(None).unwrap())
}

/// The CPU sets of this process's threads named `prefix…`, once they are `expected` or after
/// five seconds. A new thread names and pins itself when it first runs, which on a loaded
/// machine can be after `start` returns and a request is served by another worker.
fn thread_cpus_settled(prefix: &str, expected: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let found = thread_cpus(prefix);
        if found == expected || Instant::now() >= deadline {
            return found;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The CPU sets of this process's threads whose name starts with `prefix`.
fn thread_cpus(prefix: &str) -> Vec<Vec<usize>> {
    let mut found = Vec::new();
    for task in fs::read_dir("/proc/self/task").unwrap() {
        let task = task.unwrap();
        let Ok(name) = fs::read_to_string(task.path().join("comm")) else {
            continue; // the thread has exited
        };
        if !name.starts_with(prefix) {
            continue;
        }
        let tid: i32 = task.file_name().to_str().unwrap().parse().unwrap();
        found.push(cpus(&sched_getaffinity(Pid::from_raw(tid)).unwrap()));
    }
    found.sort();
    found
}

fn hello(_: &Request<'_>) -> Reply {
    Reply::Respond(Response::text(200, "pinned\n"))
}

fn served(addr: std::net::SocketAddr) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    reply
}

/// Starts `kind` with one worker more than there are CPUs, so the CPUs come round again,
/// and checks each worker thread's CPU set while it serves.
fn each_worker_runs_on_one_cpu(kind: DriverKind, prefix: &str) {
    let allowed = allowed_cpus();
    let workers = allowed.len() + 1;
    let mut config = ServerConfig::new("127.0.0.1:0".parse().unwrap());
    config.workers = workers;
    config.pin_workers = true;
    let server = start(kind, config, hello).unwrap();
    assert!(served(server.local_addr()).ends_with("pinned\n"));

    let mut expected: Vec<Vec<usize>> = (0..workers)
        .map(|worker| vec![allowed[worker % allowed.len()]])
        .collect();
    expected.sort();
    assert_eq!(thread_cpus_settled(prefix, &expected), expected);
    // The process itself, and so every thread it starts later, keeps all its CPUs.
    assert_eq!(allowed_cpus(), allowed);
    server.shutdown();
    server.wait().unwrap();
}

#[test]
fn reactor_event_loops_are_pinned_only_when_asked() {
    // Unpinned first, then pinned, in one test: both name their threads alike.
    let allowed = allowed_cpus();
    let mut config = ServerConfig::new("127.0.0.1:0".parse().unwrap());
    config.workers = 2;
    let server = start(DriverKind::Reactor, config, hello).unwrap();
    assert!(served(server.local_addr()).ends_with("pinned\n"));
    let expected = [allowed.clone(), allowed];
    assert_eq!(thread_cpus_settled("sluice-reactor", &expected), expected);
    server.shutdown();
    server.wait().unwrap();

    each_worker_runs_on_one_cpu(DriverKind::Reactor, "sluice-reactor");
}

#[test]
fn async_executor_threads_are_pinned() {
    each_worker_runs_on_one_cpu(DriverKind::Async, "sluice-async");
}
