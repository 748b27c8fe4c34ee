//! Facts about the running process that std does not expose.

use std::time::Duration;

/// CPU time used by all threads of this process so far (`CLOCK_PROCESS_CPUTIME_ID`), exact
/// to the scheduler's accounting rather than to clock ticks.
pub fn cpu_time() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call, and
    // CLOCK_PROCESS_CPUTIME_ID is supported on Linux and illumos.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[cfg(test)]
mod tests {
    #[test]
    fn cpu_time_advances_with_work() {
        let before = super::cpu_time();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(super::cpu_time() > before);
    }
}

/// Marks the calling thread as a batch thread (Linux `SCHED_BATCH`): when it is woken it
/// does not preempt the thread that woke it. tern's session runners and readers sleep
/// almost always and are woken in bursts (a clock tick wakes every runner that is due);
/// without this, each wake-up preempts the waker, which costs two extra context switches
/// per wake-up. Lowering a thread's own policy needs no privilege. Elsewhere a no-op.
pub fn set_batch_scheduling() -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: sched_param is a plain C struct for which all-zero bytes are valid (musl's
        // has more fields than glibc's, so it is not built field by field); priority 0 is
        // the only one SCHED_BATCH takes.
        let param: libc::sched_param = unsafe { std::mem::zeroed() };
        // SAFETY: `param` is a valid sched_param for the duration of the call, and pid 0
        // names the calling thread; the call only changes that thread's policy.
        let rc = unsafe { libc::sched_setscheduler(0, libc::SCHED_BATCH, &param) };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

#[cfg(all(test, target_os = "linux"))]
mod batch_tests {
    #[test]
    fn a_thread_can_make_itself_a_batch_thread() {
        if std::env::var_os("TERN_TEST_EMULATOR").is_some() {
            return; // user-mode emulators need not pass scheduler calls through
        }
        std::thread::spawn(|| {
            super::set_batch_scheduling().unwrap();
            // SAFETY: querying the calling thread's own policy.
            let policy = unsafe { libc::sched_getscheduler(0) };
            assert_eq!(policy, libc::SCHED_BATCH);
        })
        .join()
        .unwrap();
    }
}

/// Signals tern sends to processes it started (tests, the demo): stop, reload, kill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Term,
    Int,
    Hup,
    Kill,
}

/// Sends `signal` to the process `pid`. Callers pass only PIDs of children they started.
pub fn send_signal(pid: u32, signal: Signal) -> std::io::Result<()> {
    let sig = match signal {
        Signal::Term => libc::SIGTERM,
        Signal::Int => libc::SIGINT,
        Signal::Hup => libc::SIGHUP,
        Signal::Kill => libc::SIGKILL,
    };
    let pid = libc::pid_t::try_from(pid).map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
    if pid <= 0 {
        // 0 and negative PIDs name process groups: never what a caller of this means.
        return Err(std::io::Error::from(std::io::ErrorKind::InvalidInput));
    }
    // SAFETY: kill(2) takes plain integers and touches no memory of ours; `pid` is a single
    // positive process id (checked above), so no process group is signalled.
    let rc = unsafe { libc::kill(pid, sig) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod signal_tests {
    #[test]
    fn group_pids_are_refused() {
        assert!(super::send_signal(0, super::Signal::Term).is_err());
    }
}
