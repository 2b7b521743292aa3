//! The real programs the tests run, and the package each comes in, so a
//! test whose peer is missing fails saying what to install rather than with
//! a bare "No such file or directory". `.ci/test` installs them all.

use std::path::PathBuf;

/// Program → where it comes from (Debian/Ubuntu package, or pip in the
/// test venv that `.ci/test` makes).
const PEERS: &[(&str, &str)] = &[
    ("sshd", "apt-get install openssh-server"),
    ("ssh", "apt-get install openssh-client"),
    ("ssh-keygen", "apt-get install openssh-client"),
    ("ssh-add", "apt-get install openssh-client"),
    ("scp", "apt-get install openssh-client"),
    ("sftp", "apt-get install openssh-client"),
    ("rsync", "apt-get install rsync"),
    ("tmux", "apt-get install tmux"),
    ("unzip", "apt-get install unzip"),
    ("xfreerdp", "apt-get install freerdp2-x11"),
    ("freerdp-shadow-cli", "apt-get install freerdp2-shadow-x11"),
    ("winpr-hash", "apt-get install winpr-utils"),
    ("Xvfb", "apt-get install xvfb"),
    ("xclip", "apt-get install xclip"),
    ("aws", "pip install awscli (in a venv)"),
    ("moto_server", "pip install 'moto[server]' (in a venv)"),
];

/// The program on PATH (or in sbin, for sshd), or a panic naming the
/// package to install.
pub fn require(program: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let sbin = ["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from);
    let found = std::env::split_paths(&path)
        .chain(sbin)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file());
    found.unwrap_or_else(|| {
        let how = PEERS
            .iter()
            .find(|(p, _)| *p == program)
            .map_or("install it", |(_, how)| how);
        panic!(
            "this test needs `{program}`, which is not installed: {how}\n  \
             or run `.ci/test`, which installs every test peer and runs the tests (README.md, Tests)"
        )
    })
}
