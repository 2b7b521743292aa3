#!/usr/bin/env bash
# Builds a .deb in target/debian/ with cargo-deb: the binary, its man page,
# completions for bash, zsh and fish, the agent's systemd user unit, and the README.
#   packaging/build-deb.sh        (cargo install cargo-deb first)
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo-deb >/dev/null 2>&1 || { echo "needs cargo-deb: cargo install cargo-deb" >&2; exit 1; }
cargo build --release --locked
bin=target/release/gamelift-access
mkdir -p target/assets
"$bin" manpage | gzip -9n > target/assets/gamelift-access.1.gz
"$bin" completions bash > target/assets/gamelift-access.bash
"$bin" completions zsh > target/assets/_gamelift-access
"$bin" completions fish > target/assets/gamelift-access.fish
# The agent's systemd user unit, pointed at the packaged binary.
sed 's|^ExecStart=.*gamelift-access |ExecStart=/usr/bin/gamelift-access |' \
    packaging/systemd/gamelift-access-agent.service > target/assets/gamelift-access-agent.service
grep -q '^ExecStart=/usr/bin/gamelift-access agent run' target/assets/gamelift-access-agent.service
cargo deb --no-build --locked
