#!/usr/bin/env bash
# CI, packaging stage: build the .deb with cargo-deb, unpack it into a
# throwaway root (dpkg -x: no system change), and run what it installed.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo-deb >/dev/null 2>&1 || cargo install --locked --quiet cargo-deb
command -v man >/dev/null 2>&1 || {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends man-db
}
packaging/build-deb.sh
debs=(target/debian/gamelift-access_*.deb)
deb=${debs[-1]}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
# (Read whole first: grep -q in a pipe would end dpkg-deb early, and pipefail
# would count its SIGPIPE as a failure.)
info=$(dpkg-deb --info "$deb")
grep -q 'Recommends: openssh-client' <<<"$info" || { echo "packaging: no Recommends on openssh-client" >&2; exit 1; }
dpkg -x "$deb" "$root"
version=$("$root/usr/bin/gamelift-access" --version)
grep -q '^gamelift-access ' <<<"$version" || { echo "packaging: --version failed" >&2; exit 1; }
page=$(MANPAGER=cat man -l "$root/usr/share/man/man1/gamelift-access.1.gz")
grep -q 'gamelift-access' <<<"$page" || { echo "packaging: the man page does not render" >&2; exit 1; }
for f in usr/share/bash-completion/completions/gamelift-access usr/share/zsh/vendor-completions/_gamelift-access \
    usr/share/fish/vendor_completions.d/gamelift-access.fish usr/share/doc/gamelift-access/README.md \
    usr/lib/systemd/user/gamelift-access-agent.service; do
    [ -s "$root/$f" ] || { echo "packaging: $f is missing from the .deb" >&2; exit 1; }
done
echo "packaging: $deb passed"
