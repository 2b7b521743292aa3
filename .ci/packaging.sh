#!/usr/bin/env bash
# CI, packaging stage: build the .deb with cargo-deb, unpack it into a
# throwaway root (dpkg -x: no system change), and run what it installed;
# then render the Homebrew formula for a source tarball and have Ruby parse
# it (brew itself cannot run here: it needs macOS or Linuxbrew's own tree).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo-deb >/dev/null 2>&1 || cargo install --locked --quiet cargo-deb
if ! command -v man >/dev/null 2>&1 || ! command -v ruby >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends man-db ruby
fi
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
# The formula's own test block runs these; check them against the built binary.
set +e
out=$("$root/usr/bin/gamelift-access" connect my-fleet not/an/instance 2>&1)
rc=$?
set -e
[ "$rc" = 64 ] && grep -q 'not an instance reference' <<<"$out" || {
    echo "packaging: the formula's test command gave $rc: $out" >&2; exit 1; }
echo "packaging: $deb passed"

# Homebrew: the formula's source parses, and the rendered one names the
# tarball by its real SHA-256, with no placeholder left.
ruby -c packaging/homebrew/gamelift-access.rb >/dev/null
mapfile -t made < <(packaging/build-release.sh --source https://releases.example.invalid/gamelift-access.tar.gz)
tarball=${made[0]} formula=${made[1]}
ruby -c "$formula" >/dev/null
sha=$(sha256sum "$tarball" | cut -d' ' -f1)
grep -q "sha256 \"$sha\"" "$formula" || { echo "packaging: the formula's sha256 is not the tarball's" >&2; exit 1; }
! grep -q '@[A-Z_]*@' "$formula" || { echo "packaging: a placeholder is left in $formula" >&2; exit 1; }
listing=$(tar -tzf "$tarball")
for f in Cargo.toml Cargo.lock src/main.rs emulator/Cargo.toml; do
    grep -qx "gamelift-access-[^/]*/$f" <<<"$listing" || { echo "packaging: $f is missing from $tarball" >&2; exit 1; }
done
echo "packaging: $formula passed (ruby -c)"
