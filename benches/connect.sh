#!/usr/bin/env bash
# Benchmark: how long `connect` takes from start to the moment the client
# would launch, against the GameLift emulator on 127.0.0.1.
#   - warm: fleet metadata cached, so one GameLift call (GetInstanceAccess);
#   - cold: --refresh, so DescribeFleetAttributes, DescribeBuild and
#     DescribeFleetLocationAttributes first (four calls).
# `--print` stops where ssh would start, so ssh's own time is left out.
#
#   benches/connect.sh [extra hyperfine options]     (needs hyperfine: apt-get install hyperfine)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "needs hyperfine: apt-get install hyperfine" >&2; exit 72; }

cargo build --release --quiet --workspace
work=$(mktemp -d)
emulator_pid=
cleanup() {
    if [ -n "$emulator_pid" ]; then kill "$emulator_pid" 2>/dev/null || true; wait "$emulator_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# The sample fixture, with a real RSA key for the SDK 4 Linux instance.
ssh-keygen -q -t rsa -b 2048 -m PEM -N '' -f "$work/key"
fleet=fleet-1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d
instance=i-0123456789abcdef0
target/release/gamelift-emulator --print-sample > "$work/sample.json"
python3 - "$work" "$instance" <<'PY'
import json, sys
work, instance = sys.argv[1], sys.argv[2]
fixture = json.load(open(f"{work}/sample.json"))
for i in fixture["instances"]:
    if i["instance_id"] == instance:
        i["secret"] = open(f"{work}/key").read()
json.dump(fixture, open(f"{work}/fixture.json", "w"))
PY

# Start it on a free port and wait for its "listening on" line.
mkfifo "$work/ready"
target/release/gamelift-emulator --port 0 --fixture "$work/fixture.json" > "$work/ready" &
emulator_pid=$!
read -r line < "$work/ready"
endpoint=${line#listening on }

mkdir -p "$work/xdg"
export XDG_RUNTIME_DIR="$work/xdg/runtime" XDG_DATA_HOME="$work/xdg/data" XDG_CACHE_HOME="$work/xdg/cache" \
    XDG_STATE_HOME="$work/xdg/state" AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench \
    AWS_REGION=us-west-2 AWS_ENDPOINT_URL="$endpoint" AWS_CONFIG_FILE=/dev/null \
    AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
connect="target/release/gamelift-access connect $fleet $instance --print"
$connect > /dev/null 2>&1   # fill the cache
hyperfine --warmup 3 --shell=none "$@" \
    -n "warm (1 call)" "$connect" \
    -n "cold (--refresh, 4 calls)" "$connect --refresh"
