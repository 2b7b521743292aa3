#!/usr/bin/env bash
# `build upload` against `aws gamelift upload-build`, both against the
# emulator's S3 front over moto_server on 127.0.0.1, on the same ~120 MB
# tree (a 64 MiB random binary plus a few hundred text files); then the peak
# RSS of `build upload` on a 1 GiB tree (/usr/bin/time -v).
#
# Needs: hyperfine, /usr/bin/time, the aws CLI, moto_server. Run from the
# repository root: benches/upload.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh

cargo build --release --quiet --bin gamelift-access -p gamelift-access
cargo build --release --quiet -p gamelift-emulator
bin=$PWD/target/release/gamelift-access

work=$(mktemp -d)
emu_pid=
cleanup() {
    if [ -n "$emu_pid" ]; then
        kill "$emu_pid" 2>/dev/null || true
        wait "$emu_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# The ~120 MB tree.
mkdir -p "$work/tree/bin" "$work/tree/data"
head -c $((64 * 1024 * 1024)) /dev/urandom > "$work/tree/bin/server"
for i in $(seq 1 300); do
    base64 -w 100 < <(head -c 140000 /dev/urandom) > "$work/tree/data/config-$i.txt"
done
du -sh "$work/tree"

# The emulator with its S3 front.
start_emulator "$work" --s3-port 0
emu_pid=$emulator_pid

export AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-west-2
export AWS_ENDPOINT_URL_GAMELIFT=$endpoint AWS_ENDPOINT_URL_S3=$s3
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
export NO_COLOR=1

hyperfine --warmup 1 --runs 5 --export-markdown "$work/upload.md" \
    -n 'gamelift-access build upload' \
    "$bin build upload $work/tree --name bench --build-version 1 --operating-system AMAZON_LINUX_2023" \
    -n 'aws gamelift upload-build' \
    "aws gamelift upload-build --name bench --build-version 1 --operating-system AMAZON_LINUX_2023 --build-root $work/tree --region us-west-2"
cat "$work/upload.md"

# Peak RSS on a 1 GiB tree.
rm -rf "$work/tree"
mkdir -p "$work/big"
for i in 1 2 3 4; do
    head -c $((256 * 1024 * 1024)) /dev/urandom > "$work/big/part-$i.bin"
done
/usr/bin/time -v "$bin" build upload "$work/big" --name big --build-version 1 \
    --operating-system AMAZON_LINUX_2023 2> "$work/time.txt" >/dev/null
grep -E 'Maximum resident set size|Elapsed' "$work/time.txt"
