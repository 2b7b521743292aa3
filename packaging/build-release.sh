#!/usr/bin/env bash
# Builds a release bundle in dist/: the binary, its man page and shell
# completions, all generated from the same clap definitions.
#   packaging/build-release.sh [--no-default-features]   (without the emulator/demo)
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked "$@"
bin=target/release/gamelift-access
version=$("$bin" --version | awk '{print $2}')
target=$(rustc -vV | sed -n 's/^host: //p')
out="dist/gamelift-access-$version-$target"

rm -rf "$out"
mkdir -p "$out/completions" "$out/man/man1"
install -m 0755 "$bin" "$out/"
"$bin" manpage > "$out/man/man1/gamelift-access.1"
"$bin" completions bash > "$out/completions/gamelift-access.bash"
"$bin" completions zsh > "$out/completions/_gamelift-access"
"$bin" completions fish > "$out/completions/gamelift-access.fish"
"$bin" completions powershell > "$out/completions/_gamelift-access.ps1"
cp README.md "$out/"
tar -C dist -czf "$out.tar.gz" "$(basename "$out")"
echo "$out.tar.gz"
