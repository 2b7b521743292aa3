#!/usr/bin/env bash
# Builds a release bundle in dist/: the binary, its man page and shell
# completions, all generated from the same clap definitions.
#   packaging/build-release.sh [--no-default-features]   (without the emulator/demo)
#   packaging/build-release.sh --windows [...]           (x86_64-pc-windows-gnu .zip, built
#       with Debian's rustc-web, rust-web-src and gcc-mingw-w64-x86-64; see README "Windows")
#   packaging/build-release.sh --source [URL [HOMEPAGE]]  (the source tarball of HEAD, and the
#       Homebrew formula for it in dist/homebrew/: URL is where the tarball will be published,
#       by default its file:// path here, which `brew install` can use on this machine)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = --source ]; then
    version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
    tarball="dist/gamelift-access-$version.tar.gz"
    mkdir -p dist/homebrew
    git archive --format=tar.gz --prefix="gamelift-access-$version/" -o "$tarball" HEAD
    url=${2:-file://$PWD/$tarball}
    homepage=${3:-${url%/*}}
    sha=$(sha256sum "$tarball" | cut -d' ' -f1)
    sed -e "s|@SOURCE_URL@|$url|" -e "s|@SOURCE_SHA256@|$sha|" -e "s|@HOMEPAGE@|$homepage|" \
        packaging/homebrew/gamelift-access.rb > dist/homebrew/gamelift-access.rb
    echo "$tarball"
    echo dist/homebrew/gamelift-access.rb
    exit 0
fi

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
