//! A client and everything it starts, ended together: a process group of
//! its own on Unix, a Job object of its own on Windows.
//!
//! Ending only the client is not enough: the AWS CLI leaves
//! session-manager-plugin running when it is killed, and that plugin holds
//! the output pipes `run` reads and the compute's STS credentials in its
//! environment. So on a timeout or a signal the whole group is ended, and
//! once the client exits, whatever it left in its group is ended too.
//!
//! On Unix a client that shares our terminal (its stdin is one) is made the
//! terminal's foreground process group before it runs, so it can read the
//! terminal and set its modes as it would without us; the terminal is given
//! back to us when the group is done with.

/// Sets `cmd` up to start in a group of its own. `terminal`: the client
/// reads our terminal (Unix: it becomes the foreground process group).
pub fn prepare(cmd: &mut tokio::process::Command, terminal: bool) {
    #[cfg(unix)]
    {
        cmd.process_group(0);
        if terminal {
            // SAFETY: the hook runs between fork and exec and makes only
            // async-signal-safe calls (sigprocmask, tcsetpgrp, getpid).
            unsafe {
                cmd.pre_exec(|| {
                    take_terminal(libc::getpid());
                    Ok(())
                });
            }
        }
    }
    #[cfg(windows)]
    let _ = (cmd, terminal);
}

/// The group of a spawned client.
pub struct Group {
    #[cfg(unix)]
    pgid: Option<i32>,
    #[cfg(unix)]
    terminal: bool,
    #[cfg(windows)]
    job: Option<crate::winsec::ClientJob>,
}

impl Group {
    /// The group of `child`, spawned after [`prepare`] with the same `terminal`.
    pub fn of(child: &tokio::process::Child, terminal: bool) -> Group {
        #[cfg(unix)]
        {
            Group {
                pgid: child.id().and_then(|pid| i32::try_from(pid).ok()),
                terminal,
            }
        }
        #[cfg(windows)]
        {
            let _ = terminal;
            // Also in our own job, so it dies with us whatever happens.
            let job = child.raw_handle().and_then(|handle| {
                crate::winsec::adopt(handle);
                crate::winsec::ClientJob::adopt(handle)
            });
            Group { job }
        }
    }

    /// Sends `signal` to every process of the group (Unix). On Windows a
    /// console event reaches them all anyway, so this does nothing there.
    pub fn signal(&self, signal: i32) {
        #[cfg(unix)]
        if let Some(pgid) = self.pgid {
            // SAFETY: kill(2) on the process group our child leads.
            unsafe { libc::kill(-pgid, signal) };
        }
        #[cfg(windows)]
        let _ = signal;
    }

    /// Ends every process of the group at once (SIGKILL; TerminateJobObject).
    pub fn kill(&self) {
        #[cfg(unix)]
        self.signal(libc::SIGKILL);
        #[cfg(windows)]
        if let Some(job) = &self.job {
            job.terminate();
        }
    }
}

impl Drop for Group {
    /// Ends what the client left behind, and takes the terminal back.
    fn drop(&mut self) {
        self.kill();
        #[cfg(unix)]
        if self.terminal
            && let Some(pgid) = self.pgid
        {
            give_terminal_back(pgid);
        }
    }
}

/// Makes `pgid` the foreground process group of the terminal on stdin, if
/// stdin is one. SIGTTOU is blocked meanwhile: a background process that
/// asks would otherwise be stopped by it.
#[cfg(unix)]
fn take_terminal(pgid: libc::pid_t) {
    // SAFETY: plain libc calls on stdin and on a local signal set; all
    // async-signal-safe (this runs between fork and exec too).
    unsafe {
        if libc::isatty(0) != 1 {
            return;
        }
        let mut block: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut block);
        libc::sigaddset(&mut block, libc::SIGTTOU);
        libc::sigprocmask(libc::SIG_BLOCK, &block, &mut old);
        libc::tcsetpgrp(0, pgid);
        libc::sigprocmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
    }
}

/// Takes the terminal back from the client's group `pgid`, if it still has it.
#[cfg(unix)]
fn give_terminal_back(pgid: i32) {
    // SAFETY: tcgetpgrp/getpgrp have no preconditions.
    let (holder, ours) = unsafe { (libc::tcgetpgrp(0), libc::getpgrp()) };
    if holder == pgid {
        take_terminal(ours);
    }
}
