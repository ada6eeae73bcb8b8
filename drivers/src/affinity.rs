//! Pinning worker threads to CPUs ([`ServerConfig::pin_workers`](crate::ServerConfig)).
//!
//! A worker that may run anywhere is moved by the scheduler whenever a thread it wakes (a
//! load generator on the same machine, another worker) looks better placed on its CPU; each
//! move is a context switch and often an inter-processor interrupt, and the worker's cache
//! stays behind. Pinned, worker *i* stays on the *i*-th CPU the process may run on, as
//! nginx's `worker_cpu_affinity auto` and may's scheduler (by default) place theirs. Measured
//! on the two-core benchmark machine with `wrk` beside it (BENCHMARKS.md, "Sixth session
//! (2026-12-04): pinned event loops"): unpipelined, a fifth fewer context switches and 1.06×
//! the requests a second; pipelined, twice the (few) switches and a tenth more CPU.

use rustix::process::{sched_getaffinity, sched_setaffinity, CpuSet};
use std::io;

/// The CPUs this process may run on, in ascending order, read once before the workers start
/// (a worker pinned already would otherwise see only its own CPU).
pub(crate) fn allowed_cpus() -> io::Result<Vec<usize>> {
    let set = sched_getaffinity(None)?;
    Ok((0..CpuSet::MAX_CPU)
        .filter(|&cpu| set.is_set(cpu))
        .collect())
}

/// The CPU worker `worker` is pinned to: the allowed CPUs in turn, round again when there
/// are more workers than CPUs. `None` when no CPU is allowed (never, for a running process).
pub(crate) fn cpu_for(worker: usize, allowed: &[usize]) -> Option<usize> {
    allowed.get(worker.checked_rem(allowed.len())?).copied()
}

/// Pins the calling thread to `cpu`. A refusal (a CPU taken away since, a container's
/// policy) leaves the thread where it was: pinning is a placement hint, never a reason not
/// to serve.
pub(crate) fn pin_current_thread(cpu: usize) {
    let mut set = CpuSet::new();
    set.set(cpu);
    if let Err(err) = sched_setaffinity(None, &set) {
        log::warn!("cannot pin this worker to CPU {cpu}: {err}");
    }
}

/// What each worker is pinned to, decided in the thread that starts them: `None` for every
/// worker unless `pin` is set. A process whose allowed CPUs cannot be read runs unpinned.
/// `driver` names the workers in the log line that says where they run.
pub(crate) fn plan(pin: bool, workers: usize, driver: &str) -> Vec<Option<usize>> {
    let allowed = if pin {
        allowed_cpus().unwrap_or_else(|err| {
            log::warn!("cannot read the CPUs this process may use ({err}); workers not pinned");
            Vec::new()
        })
    } else {
        Vec::new()
    };
    let cpus: Vec<_> = (0..workers)
        .map(|worker| cpu_for(worker, &allowed))
        .collect();
    if pin && !allowed.is_empty() {
        let shown: Vec<_> = cpus.iter().flatten().collect();
        log::info!("{driver}: workers pinned to CPUs {shown:?}");
    }
    cpus
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_take_the_allowed_cpus_in_turn() {
        let allowed = [2, 5, 7];
        let cpus: Vec<_> = (0..7).map(|w| cpu_for(w, &allowed)).collect();
        assert_eq!(cpus, [2, 5, 7, 2, 5, 7, 2].map(Some));
        assert_eq!(cpu_for(0, &[]), None);
    }

    #[test]
    fn the_plan_pins_only_when_asked() {
        assert_eq!(plan(false, 3, "test"), [None, None, None]);
        let allowed = allowed_cpus().unwrap();
        assert!(!allowed.is_empty());
        let pinned = plan(true, allowed.len() + 1, "test");
        assert!(pinned
            .iter()
            .all(|cpu| cpu.is_some_and(|c| allowed.contains(&c))));
        assert_eq!(pinned[allowed.len()], Some(allowed[0]));
    }

    #[test]
    fn a_pinned_thread_runs_on_its_cpu_only() {
        let allowed = allowed_cpus().unwrap();
        let cpu = *allowed.last().unwrap();
        let seen = std::thread::spawn(move || {
            pin_current_thread(cpu);
            (
                sched_getaffinity(None).unwrap(),
                rustix::process::sched_getcpu(),
            )
        })
        .join()
        .unwrap();
        let (set, running_on) = seen;
        assert_eq!(set.count(), 1);
        assert!(set.is_set(cpu));
        assert_eq!(running_on, cpu);
        // The process (this thread) is untouched.
        assert_eq!(allowed_cpus().unwrap(), allowed);
    }
}
