//! Process hardening for the agent, applied before it holds any key.
//!
//! - Linux: `PR_SET_DUMPABLE 0`, so no core dump is written and a process of
//!   the same UID cannot ptrace it or read its memory through /proc.
//! - macOS: `PT_DENY_ATTACH`, the equivalent refusal of debuggers.
//! - Everywhere: `RLIMIT_CORE 0`.
//! - `mlockall`, best effort: only where the memory-lock limit cannot make a
//!   later allocation fail (unlimited, or privileged), so keys are not
//!   swapped out. `harden` says whether it did, and `agent status` shows it.
//! - Windows: the process's own DACL is narrowed (`winsec::restrict_own_process`,
//!   as PuTTY's Pageant does), so other processes, the same user's included,
//!   cannot open it to read its memory; the counterpart of PR_SET_DUMPABLE.
//!   Windows has no RLIMIT_CORE, and heap pages cannot be locked as a whole.

/// Hardens the process; returns whether its memory is locked.
#[cfg(windows)]
pub fn harden() -> bool {
    if let Err(e) = crate::winsec::restrict_own_process() {
        tracing::warn!("cannot narrow the agent process's DACL: {e}");
    }
    false
}

/// Hardens the process; returns whether its memory is locked.
#[cfg(unix)]
pub fn harden() -> bool {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: prctl with PR_SET_DUMPABLE takes a plain integer.
        if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } != 0 {
            tracing::warn!("PR_SET_DUMPABLE failed: {}", std::io::Error::last_os_error());
        }
    }
    #[cfg(target_os = "macos")]
    {
        // SAFETY: PT_DENY_ATTACH takes no address or data.
        if unsafe { libc::ptrace(libc::PT_DENY_ATTACH, 0, std::ptr::null_mut(), 0) } != 0 {
            tracing::warn!("PT_DENY_ATTACH failed: {}", std::io::Error::last_os_error());
        }
    }
    let zero = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: setrlimit reads the struct we pass.
    if unsafe { libc::setrlimit(libc::RLIMIT_CORE, &zero) } != 0 {
        tracing::warn!("RLIMIT_CORE 0 failed: {}", std::io::Error::last_os_error());
    }
    lock_memory()
}

#[cfg(unix)]
fn lock_memory() -> bool {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct we pass; geteuid cannot fail.
    let unlimited =
        unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut limit) } == 0 && limit.rlim_cur == libc::RLIM_INFINITY;
    // SAFETY: as above.
    if !unlimited && unsafe { libc::geteuid() } != 0 {
        tracing::debug!("not locking memory: RLIMIT_MEMLOCK is limited");
        return false;
    }
    // SAFETY: mlockall takes flags only.
    if unsafe { libc::mlockall(libc::MCL_CURRENT | libc::MCL_FUTURE) } != 0 {
        tracing::debug!("mlockall failed: {}", std::io::Error::last_os_error());
        return false;
    }
    true
}
