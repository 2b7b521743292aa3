#!/usr/bin/env bash
# Builds a release bundle in dist/: the binary, its man page and shell
# completions, all generated from the same clap definitions.
#   packaging/build-release.sh [--no-default-features]   (without the emulator/demo)
#   packaging/build-release.sh --windows [...]           (x86_64-pc-windows-gnu .zip, built
#       with Debian's rustc-web, rust-web-src and gcc-mingw-w64-x86-64; see README "Windows")
set -euo pipefail
cd "$(dirname "$0")/.."

windows=false
if [ "${1:-}" = --windows ]; then
    windows=true
    shift
fi

# The host binary generates the man page and completions (same clap definitions).
cargo build --release --locked "$@"
bin=target/release/gamelift-access
version=$("$bin" --version | awk '{print $2}')

if $windows; then
    triple=x86_64-pc-windows-gnu
    PATH=/usr/bin:$PATH RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=$PWD/target/windows \
        cargo build --release --locked -Zbuild-std=std,panic_abort --target "$triple" --bin gamelift-access "$@"
    out="dist/gamelift-access-$version-$triple"
    rm -rf "$out" "$out.zip"
    mkdir -p "$out/completions"
    cp "target/windows/$triple/release/gamelift-access.exe" "$out/"
    "$bin" completions powershell > "$out/completions/_gamelift-access.ps1"
    cp README.md "$out/"
    (cd dist && python3 -m zipfile -c "$(basename "$out").zip" "$(basename "$out")")
    echo "$out.zip"
    exit 0
fi

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
