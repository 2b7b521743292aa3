//! Windows: what Unix file modes, uids and process groups do elsewhere.
//!
//! Windows OpenSSH (`ssh.exe`) refuses a private key whose ACL grants
//! anyone but its owner, SYSTEM or Administrators, and the inherited ACL of
//! a file under `%LOCALAPPDATA%` grants more than that. So secrets are
//! created with an explicit, *protected* DACL (no inheritance) holding one
//! ACE: full control for the current user. Nothing here imitates chmod; the
//! DACL is set when the object is created, and a directory that already
//! exists must belong to us before its DACL is made owner-only again.
//!
//! Also here: whether a process is alive (for the sweep of a crashed run's
//! leftovers) and the Job object that makes our children die with us.

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::windows::ffi::OsStrExt;
use std::os::windows::io::{FromRawHandle, RawHandle};
use std::path::Path;
use std::ptr;
use std::sync::OnceLock;

use windows_sys::Win32::Foundation::{
    CloseHandle, ERROR_ALREADY_EXISTS, GENERIC_READ, GENERIC_WRITE, HANDLE, INVALID_HANDLE_VALUE, LocalFree,
    STILL_ACTIVE,
};
use windows_sys::Win32::Security::Authorization::{
    ConvertSecurityDescriptorToStringSecurityDescriptorW, ConvertSidToStringSidW,
    ConvertStringSecurityDescriptorToSecurityDescriptorW, GetNamedSecurityInfoW, GetSecurityInfo, SDDL_REVISION_1,
    SE_FILE_OBJECT, SE_KERNEL_OBJECT, SetSecurityInfo,
};
use windows_sys::Win32::Security::{
    ACL, DACL_SECURITY_INFORMATION, GetSecurityDescriptorDacl, GetTokenInformation, OWNER_SECURITY_INFORMATION,
    PROTECTED_DACL_SECURITY_INFORMATION, PSECURITY_DESCRIPTOR, PSID, RevertToSelf, SECURITY_ATTRIBUTES,
    SetFileSecurityW, TOKEN_QUERY, TOKEN_USER, TokenUser,
};
use windows_sys::Win32::Storage::FileSystem::{
    CREATE_NEW, CreateDirectoryW, CreateFileW, FILE_ATTRIBUTE_NORMAL, FILE_FLAG_OPEN_REPARSE_POINT,
};
use windows_sys::Win32::System::JobObjects::{
    AssignProcessToJobObject, CreateJobObjectW, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JobObjectExtendedLimitInformation, SetInformationJobObject,
    TerminateJobObject,
};
use windows_sys::Win32::System::Pipes::ImpersonateNamedPipeClient;
use windows_sys::Win32::System::Threading::{
    GetCurrentProcess, GetCurrentThread, GetExitCodeProcess, OpenProcess, OpenProcessToken, OpenThreadToken,
    PROCESS_QUERY_LIMITED_INFORMATION,
};

fn wide(s: &OsStr) -> Vec<u16> {
    s.encode_wide().chain(Some(0)).collect()
}

/// Reads a NUL-terminated wide string that the system allocated, then frees it.
///
/// # Safety
/// `p` must be a LocalAlloc'd NUL-terminated UTF-16 string.
unsafe fn take_local_wide(p: *mut u16) -> String {
    let mut len = 0;
    // SAFETY: the caller promises a NUL-terminated string.
    while unsafe { *p.add(len) } != 0 {
        len += 1;
    }
    // SAFETY: `len` u16s were just read from `p`.
    let s = String::from_utf16_lossy(unsafe { std::slice::from_raw_parts(p, len) });
    // SAFETY: allocated by the system with LocalAlloc, freed once.
    unsafe { LocalFree(p.cast()) };
    s
}

/// A handle closed on drop.
struct Handle(HANDLE);

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: a handle we opened and own.
        unsafe { CloseHandle(self.0) };
    }
}

/// The current user's SID, as a string (`S-1-5-21-…`). Read once: the
/// process token's user does not change.
pub fn user_sid() -> io::Result<&'static str> {
    static SID: OnceLock<String> = OnceLock::new();
    if let Some(sid) = SID.get() {
        return Ok(sid);
    }
    // SAFETY: the pseudo-handle of our own process, never closed.
    let sid = token_user_sid(unsafe { GetCurrentProcess() })?;
    Ok(SID.get_or_init(|| sid))
}

/// A SID in its string form.
///
/// # Safety
/// `sid` must point to a valid SID.
unsafe fn sid_string(sid: PSID) -> io::Result<String> {
    let mut s: *mut u16 = ptr::null_mut();
    // SAFETY: a valid SID; `s` receives a LocalAlloc'd string.
    if unsafe { ConvertSidToStringSidW(sid, &mut s) } == 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: ConvertSidToStringSidW returned a LocalAlloc'd wide string.
    Ok(unsafe { take_local_wide(s) })
}

/// The owner-only DACL, in SDDL: protected (`P`, nothing inherited) and one
/// ACE granting the current user full control (`FA`), inherited by what is
/// created inside a directory (`OICI`).
pub fn owner_only_sddl(directory: bool) -> io::Result<String> {
    let sid = user_sid()?;
    let inherit = if directory { "OICI" } else { "" };
    Ok(format!("O:{sid}D:P(A;{inherit};FA;;;{sid})"))
}

/// A self-relative security descriptor, freed on drop.
pub struct Descriptor(PSECURITY_DESCRIPTOR);

// SAFETY: a LocalAlloc'd block we own; nothing in it is tied to a thread.
unsafe impl Send for Descriptor {}
unsafe impl Sync for Descriptor {}

impl Descriptor {
    fn from_sddl(sddl: &str) -> io::Result<Self> {
        let mut sd: PSECURITY_DESCRIPTOR = ptr::null_mut();
        let text = wide(OsStr::new(sddl));
        // SAFETY: a NUL-terminated SDDL string; `sd` receives a LocalAlloc'd descriptor.
        let ok = unsafe {
            ConvertStringSecurityDescriptorToSecurityDescriptorW(
                text.as_ptr(),
                SDDL_REVISION_1,
                &mut sd,
                ptr::null_mut(),
            )
        };
        if ok == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Self(sd))
    }

    /// The owner-only descriptor (see [`owner_only_sddl`]).
    pub fn owner_only(directory: bool) -> io::Result<Self> {
        Self::from_sddl(&owner_only_sddl(directory)?)
    }

    /// `SECURITY_ATTRIBUTES` pointing at this descriptor, not inheritable;
    /// valid while `self` lives.
    pub fn attributes(&self) -> SECURITY_ATTRIBUTES {
        SECURITY_ATTRIBUTES {
            nLength: size_of::<SECURITY_ATTRIBUTES>() as u32,
            lpSecurityDescriptor: self.0,
            bInheritHandle: 0,
        }
    }
}

impl Drop for Descriptor {
    fn drop(&mut self) {
        // SAFETY: allocated by the system with LocalAlloc, freed once.
        unsafe { LocalFree(self.0) };
    }
}

/// Creates `path` as a new file that only the current user can open, and
/// opens it for writing. `CREATE_NEW` is `O_EXCL`; opening the reparse
/// point itself is `O_NOFOLLOW` (a link planted there makes creation fail).
pub fn create_private_file(path: &Path) -> io::Result<File> {
    create_file(path, &Descriptor::owner_only(false)?)
}

fn create_file(path: &Path, sd: &Descriptor) -> io::Result<File> {
    let attributes = sd.attributes();
    let name = wide(path.as_os_str());
    // SAFETY: a NUL-terminated path and a valid SECURITY_ATTRIBUTES.
    let handle = unsafe {
        CreateFileW(
            name.as_ptr(),
            GENERIC_READ | GENERIC_WRITE,
            0,
            &attributes,
            CREATE_NEW,
            FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT,
            ptr::null_mut(),
        )
    };
    if handle == INVALID_HANDLE_VALUE {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh handle that the File now owns.
    Ok(unsafe { File::from_raw_handle(handle as RawHandle) })
}

/// Creates `dir` with the owner-only DACL; an existing one is left to
/// [`make_private`], which checks who owns it first.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    create_dir(dir, &Descriptor::owner_only(true)?)
}

fn create_dir(dir: &Path, sd: &Descriptor) -> io::Result<()> {
    let attributes = sd.attributes();
    let name = wide(dir.as_os_str());
    // SAFETY: a NUL-terminated path and a valid SECURITY_ATTRIBUTES.
    if unsafe { CreateDirectoryW(name.as_ptr(), &attributes) } == 0 {
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(ERROR_ALREADY_EXISTS as i32) {
            return Err(err);
        }
    }
    Ok(())
}

/// Whether `path` is owned by the current user.
pub fn owned_by_us(path: &Path) -> io::Result<bool> {
    let (sd, owner) = named_descriptor(path, OWNER_SECURITY_INFORMATION)?;
    // SAFETY: `owner` points into `sd`, which is alive.
    let owner = unsafe { sid_string(owner) }?;
    drop(sd);
    Ok(owner == user_sid()?)
}

/// The parts `info` of the security descriptor of `path`, and its owner
/// (null unless `info` asks for it), which points into the descriptor.
fn named_descriptor(path: &Path, info: u32) -> io::Result<(Descriptor, PSID)> {
    let name = wide(path.as_os_str());
    let mut owner: PSID = ptr::null_mut();
    let mut sd: PSECURITY_DESCRIPTOR = ptr::null_mut();
    // SAFETY: a NUL-terminated path; `sd` receives a LocalAlloc'd descriptor.
    let rc = unsafe {
        GetNamedSecurityInfoW(
            name.as_ptr(),
            SE_FILE_OBJECT,
            info,
            &mut owner,
            ptr::null_mut(),
            ptr::null_mut(),
            ptr::null_mut(),
            &mut sd,
        )
    };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc as i32));
    }
    Ok((Descriptor(sd), owner))
}

/// Replaces the DACL of `dir` (ours) with the owner-only one, inheritance
/// cut: what `chmod 700` means, said the Windows way.
pub fn make_private(dir: &Path) -> io::Result<()> {
    let sd = Descriptor::owner_only(true)?;
    let name = wide(dir.as_os_str());
    // SAFETY: a NUL-terminated path and a valid self-relative descriptor.
    let ok = unsafe {
        SetFileSecurityW(
            name.as_ptr(),
            DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
            sd.0,
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The DACL of `path` in SDDL, for checks and tests (`D:P(A;;FA;;;S-1-…)`).
pub fn dacl_sddl(path: &Path) -> io::Result<String> {
    let (sd, _) = named_descriptor(path, DACL_SECURITY_INFORMATION)?;
    descriptor_sddl(&sd, DACL_SECURITY_INFORMATION)
}

/// Whether the DACL of `path` lets nobody but us in: every ACE allows, and
/// names us, SYSTEM or Administrators (what Windows OpenSSH accepts on a
/// private key). Real Windows shows the protected single ACE we set; Wine
/// keeps no DACL and derives one from the Unix mode, which passes only when
/// that mode is owner-only. An ACE we cannot read counts as foreign.
pub fn owner_only(path: &Path) -> io::Result<bool> {
    sddl_owner_only(&dacl_sddl(path)?)
}

/// Whether a DACL in SDDL lets nobody but us in (see [`owner_only`]).
pub fn sddl_owner_only(sddl: &str) -> io::Result<bool> {
    let user = user_sid()?;
    let aces = sddl.strip_prefix("D:").unwrap_or(sddl);
    let aces: Vec<&str> = aces.split('(').skip(1).map(|ace| ace.trim_end_matches(')')).collect();
    let allowed = |sid: &str| sid == user || sid == "SY" || sid == "BA";
    let mut ours = false;
    for ace in &aces {
        let fields: Vec<&str> = ace.split(';').collect();
        let (kind, sid) = (fields[0], fields.last().copied().unwrap_or(""));
        if kind != "A" || !allowed(sid) {
            return Ok(false);
        }
        ours |= sid == user;
    }
    Ok(ours)
}

/// The DACL of the kernel object behind `handle` (a named pipe, a process)
/// in SDDL, for tests. The handle needs `READ_CONTROL`.
#[cfg(test)]
pub fn handle_dacl_sddl(handle: RawHandle) -> io::Result<String> {
    let mut sd: PSECURITY_DESCRIPTOR = ptr::null_mut();
    // SAFETY: a handle the caller holds; `sd` receives a LocalAlloc'd descriptor.
    let rc = unsafe {
        GetSecurityInfo(
            handle as HANDLE,
            SE_KERNEL_OBJECT,
            DACL_SECURITY_INFORMATION,
            ptr::null_mut(),
            ptr::null_mut(),
            ptr::null_mut(),
            ptr::null_mut(),
            &mut sd,
        )
    };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc as i32));
    }
    descriptor_sddl(&Descriptor(sd), DACL_SECURITY_INFORMATION)
}

fn descriptor_sddl(sd: &Descriptor, info: u32) -> io::Result<String> {
    let mut s: *mut u16 = ptr::null_mut();
    // SAFETY: a valid descriptor; `s` receives a LocalAlloc'd string.
    let ok = unsafe {
        ConvertSecurityDescriptorToStringSecurityDescriptorW(sd.0, SDDL_REVISION_1, info, &mut s, ptr::null_mut())
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a LocalAlloc'd wide string from the call above.
    Ok(unsafe { take_local_wide(s) })
}

/// The user (SID string) that process `pid` runs as. Fails for a process
/// we may not query, which callers treat as a stranger.
pub fn process_user_sid(pid: u32) -> io::Result<String> {
    // SAFETY: OpenProcess returns null on failure.
    let process = unsafe { OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid) };
    if process.is_null() {
        return Err(io::Error::last_os_error());
    }
    let process = Handle(process);
    token_user_sid(process.0)
}

/// The user SID in the token of `process`.
fn token_user_sid(process: HANDLE) -> io::Result<String> {
    let mut token: HANDLE = ptr::null_mut();
    // SAFETY: a process handle the caller holds; `token` receives a handle.
    if unsafe { OpenProcessToken(process, TOKEN_QUERY, &mut token) } == 0 {
        return Err(io::Error::last_os_error());
    }
    token_user(&Handle(token))
}

/// The user SID of an open token.
fn token_user(token: &Handle) -> io::Result<String> {
    let mut len = 0u32;
    // SAFETY: a size query with a null buffer.
    unsafe { GetTokenInformation(token.0, TokenUser, ptr::null_mut(), 0, &mut len) };
    // u64s keep TOKEN_USER's pointer field aligned.
    let mut buf = vec![0u64; (len as usize).div_ceil(8)];
    // SAFETY: `buf` holds at least `len` bytes.
    if unsafe { GetTokenInformation(token.0, TokenUser, buf.as_mut_ptr().cast(), len, &mut len) } == 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: GetTokenInformation(TokenUser) filled in a TOKEN_USER.
    let user = unsafe { &*(buf.as_ptr() as *const TOKEN_USER) };
    // SAFETY: the SID lives in `buf`.
    unsafe { sid_string(user.User.Sid) }
}

/// The user SID of the client at the other end of a named pipe's server
/// instance, read by impersonating it for a moment (identification level
/// is enough) on this thread, which reverts before returning.
pub fn pipe_client_sid(pipe: RawHandle) -> io::Result<String> {
    // SAFETY: a server pipe handle the caller holds.
    if unsafe { ImpersonateNamedPipeClient(pipe as HANDLE) } == 0 {
        return Err(io::Error::last_os_error());
    }
    struct Revert;
    impl Drop for Revert {
        fn drop(&mut self) {
            // SAFETY: ends the impersonation begun above, on this thread.
            if unsafe { RevertToSelf() } == 0 {
                // Going on as someone else is never acceptable.
                std::process::abort();
            }
        }
    }
    let _revert = Revert;
    let mut token: HANDLE = ptr::null_mut();
    // SAFETY: this thread's impersonation token, opened as ourselves.
    if unsafe { OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, 1, &mut token) } == 0 {
        return Err(io::Error::last_os_error());
    }
    token_user(&Handle(token))
}

/// The owner (SID string) of the kernel object behind `handle`, `None` if it
/// has none. The handle needs `READ_CONTROL`.
pub fn handle_owner_sid(handle: RawHandle) -> io::Result<Option<String>> {
    let mut owner: PSID = ptr::null_mut();
    let mut sd: PSECURITY_DESCRIPTOR = ptr::null_mut();
    // SAFETY: a handle the caller holds; `sd` receives a LocalAlloc'd
    // descriptor, which `owner` points into.
    let rc = unsafe {
        GetSecurityInfo(
            handle as HANDLE,
            SE_KERNEL_OBJECT,
            OWNER_SECURITY_INFORMATION,
            &mut owner,
            ptr::null_mut(),
            ptr::null_mut(),
            ptr::null_mut(),
            &mut sd,
        )
    };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc as i32));
    }
    let sd = Descriptor(sd);
    if owner.is_null() {
        return Ok(None);
    }
    // SAFETY: `owner` points into `sd`, which is alive.
    let owner = unsafe { sid_string(owner) }?;
    drop(sd);
    Ok(Some(owner))
}

/// What our user may still do to a restricted process:
/// PROCESS_QUERY_LIMITED_INFORMATION | PROCESS_QUERY_INFORMATION |
/// SYNCHRONIZE | PROCESS_TERMINATE | READ_CONTROL. Not PROCESS_VM_READ,
/// PROCESS_VM_WRITE, PROCESS_VM_OPERATION, PROCESS_CREATE_THREAD or
/// PROCESS_DUP_HANDLE.
pub const RESTRICTED_PROCESS_RIGHTS: u32 = 0x1000 | 0x0400 | 0x0010_0000 | 0x0001 | 0x0002_0000;

/// The DACL [`restrict_own_process`] sets, in SDDL.
pub fn restricted_process_sddl() -> io::Result<String> {
    Ok(format!(
        "D:P(A;;GA;;;SY)(A;;{RESTRICTED_PROCESS_RIGHTS:#x};;;{})",
        user_sid()?
    ))
}

/// Narrows the DACL of our own process so that other processes, even the
/// same user's, cannot open it to read or write its memory, inject a
/// thread or duplicate its handles: PuTTY's Pageant does the same. SYSTEM
/// keeps full access; our user keeps querying, waiting on and ending it.
/// (The user still owns the process and could widen the DACL again; like
/// PR_SET_DUMPABLE on Linux, this stops casual reading, not an owner bent on it.)
pub fn restrict_own_process() -> io::Result<()> {
    let sd = Descriptor::from_sddl(&restricted_process_sddl()?)?;
    let mut present = 0;
    let mut dacl: *mut ACL = ptr::null_mut();
    let mut defaulted = 0;
    // SAFETY: a valid descriptor; `dacl` receives a pointer into it.
    if unsafe { GetSecurityDescriptorDacl(sd.0, &mut present, &mut dacl, &mut defaulted) } == 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: our own process's pseudo-handle and a DACL that lives in `sd`.
    let rc = unsafe {
        SetSecurityInfo(
            GetCurrentProcess(),
            SE_KERNEL_OBJECT,
            DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
            ptr::null_mut(),
            ptr::null_mut(),
            dacl,
            ptr::null(),
        )
    };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc as i32));
    }
    Ok(())
}

/// Whether we run under Wine (its ntdll exports `wine_get_version`), for
/// tests that must say which behaviour they saw.
#[cfg(test)]
pub fn under_wine() -> bool {
    use windows_sys::Win32::System::LibraryLoader::{GetModuleHandleW, GetProcAddress};
    let ntdll = wide(OsStr::new("ntdll.dll"));
    // SAFETY: ntdll is always loaded; a NUL-terminated export name.
    unsafe {
        let module = GetModuleHandleW(ntdll.as_ptr());
        !module.is_null() && GetProcAddress(module, c"wine_get_version".as_ptr().cast()).is_some()
    }
}

/// A descriptor that lets everyone in, for the controls.
#[cfg(test)]
fn everyone() -> Descriptor {
    Descriptor::from_sddl("D:(A;OICI;FA;;;WD)").unwrap()
}

/// Whether process `pid` is still running.
pub fn process_alive(pid: u32) -> bool {
    // SAFETY: OpenProcess returns null when there is no such process.
    let handle = unsafe { OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid) };
    if handle.is_null() {
        // Access denied still means it exists (another user's process).
        return io::Error::last_os_error().raw_os_error() == Some(5);
    }
    let handle = Handle(handle);
    let mut code = 0u32;
    // SAFETY: a process handle we hold.
    let ok = unsafe { GetExitCodeProcess(handle.0, &mut code) };
    ok != 0 && code == STILL_ACTIVE as u32
}

/// The Job object our children run in. It is closed only when this process
/// ends, however it ends, and `KILL_ON_JOB_CLOSE` then ends them too: the
/// Windows counterpart of a client dying with its session.
fn job() -> Option<HANDLE> {
    struct Job(HANDLE);
    // SAFETY: a kernel handle, usable from any thread.
    unsafe impl Send for Job {}
    unsafe impl Sync for Job {}
    static JOB: OnceLock<Option<Job>> = OnceLock::new();
    JOB.get_or_init(|| kill_on_close_job().map(Job)).as_ref().map(|j| j.0)
}

/// A new anonymous Job object that ends its processes when its last handle
/// closes (`KILL_ON_JOB_CLOSE`).
fn kill_on_close_job() -> Option<HANDLE> {
    // SAFETY: an anonymous job object with default security.
    let job = unsafe { CreateJobObjectW(ptr::null(), ptr::null()) };
    if job.is_null() {
        tracing::warn!("cannot create a Job object: {}", io::Error::last_os_error());
        return None;
    }
    // SAFETY: all-zero is a valid JOBOBJECT_EXTENDED_LIMIT_INFORMATION.
    let mut limits: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = unsafe { std::mem::zeroed() };
    limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    // SAFETY: the job we just made and a correctly sized structure.
    let ok = unsafe {
        SetInformationJobObject(
            job,
            JobObjectExtendedLimitInformation,
            (&raw const limits).cast(),
            size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
        )
    };
    if ok == 0 {
        tracing::warn!("cannot configure the Job object: {}", io::Error::last_os_error());
    }
    Some(job)
}

/// One client and every process it starts, in a Job object of their own
/// (nested in ours): the Windows counterpart of a process group, so that a
/// client that leaves a helper behind (the AWS CLI's session-manager-plugin)
/// is ended with it. Dropping it ends whatever is still running.
pub struct ClientJob(Handle);

// SAFETY: a kernel handle, usable from any thread.
unsafe impl Send for ClientJob {}
unsafe impl Sync for ClientJob {}

impl ClientJob {
    /// A job for the child with this handle. Best effort (None): a process
    /// in a job that forbids nesting cannot join. What the child starts
    /// before it joins (a few instructions after spawn) is not in it.
    pub fn adopt(child: RawHandle) -> Option<ClientJob> {
        let job = ClientJob(Handle(kill_on_close_job()?));
        // SAFETY: our new job and the handle of a child we spawned and still hold.
        if unsafe { AssignProcessToJobObject(job.0.0, child as HANDLE) } == 0 {
            tracing::debug!(
                "cannot put the client in a Job object of its own: {}",
                io::Error::last_os_error()
            );
            return None;
        }
        Some(job)
    }

    /// Ends every process in the job.
    pub fn terminate(&self) {
        // SAFETY: a job handle we own.
        unsafe { TerminateJobObject(self.0.0, 1) };
    }
}

/// Puts a child process (by its handle) into our Job object, so that it dies
/// with us. Best effort: a process already in a job that forbids breakaway
/// cannot join, and then only that guarantee is lost.
pub fn adopt(child: RawHandle) {
    if let Some(job) = job() {
        // SAFETY: our job and the handle of a child we spawned and still hold.
        if unsafe { AssignProcessToJobObject(job, child as HANDLE) } == 0 {
            tracing::debug!(
                "cannot put the client in our Job object: {}",
                io::Error::last_os_error()
            );
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;
    #[test]
    fn private_files_carry_exactly_the_owner_only_dacl() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        let mut file = create_private_file(&path).unwrap();
        file.write_all(b"secret\n").unwrap();
        drop(file);
        let sid = user_sid().unwrap();
        assert!(sid.starts_with("S-1-5-"), "{sid}");
        assert!(owner_only(&path).unwrap(), "{:?}", dacl_sddl(&path));
        assert!(owned_by_us(&path).unwrap());
        // The control: a file everyone may open fails the check (else the
        // check could not tell the two apart).
        let open = dir.path().join("open.txt");
        drop(create_file(&open, &everyone()).unwrap());
        assert!(!owner_only(&open).unwrap(), "{:?}", dacl_sddl(&open));
        assert!(
            create_private_file(&path).is_err(),
            "CREATE_NEW refuses an existing file"
        );
    }

    #[test]
    fn private_dirs_are_protected_and_inherit_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let private = dir.path().join("runtime");
        let shared = dir.path().join("shared");
        create_dir(&shared, &everyone()).unwrap();
        assert!(!owner_only(&shared).unwrap(), "{:?}", dacl_sddl(&shared));
        create_private_dir(&private).unwrap();
        create_private_dir(&private).unwrap();
        assert!(owner_only(&private).unwrap(), "{:?}", dacl_sddl(&private));
        assert!(owned_by_us(&private).unwrap());
        make_private(&shared).unwrap();
        assert!(owner_only(&shared).unwrap(), "{:?}", dacl_sddl(&shared));
    }
}
