#!/usr/bin/env bash
# Benchmark: how long `connect` takes from start to the moment the client
# would launch, against the GameLift emulator on 127.0.0.1.
#   - warm: fleet metadata cached, so two GameLift calls: the status
#     (DescribeFleetAttributes, never cached) and DescribeInstances, the
#     instance's address for --print's dry run (a real run calls
#     GetInstanceAccess there instead);
#   - cold: --refresh, so DescribeFleetAttributes, DescribeBuild and
#     DescribeFleetLocationAttributes first (four calls).
# `--print` stops where ssh would start, so ssh's own time is left out.
#
# Then, end to end against a real sshd on 127.0.0.1 (remote command `true`):
#   - floor: plain `ssh -i KEY` with the key already on disk, no API call;
#   - agent: a warm `connect` through the agent (key and fleet metadata
#     cached: zero GameLift calls), which runs the same ssh;
#   - and that warm connect up to the exec of ssh (ssh replaced by `true`),
#     against `--version`: what our own start costs (target: at most 5 ms).
#
#   benches/connect.sh [extra hyperfine options]     (needs hyperfine: apt-get install hyperfine)
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh
command -v hyperfine >/dev/null || { echo "needs hyperfine: apt-get install hyperfine" >&2; exit 72; }

cargo build --release --quiet --workspace
work=$(mktemp -d)
emulator_pid= sshd_pid= sshd_drain_pid= agent_pid=
cleanup() {
    for pid in $agent_pid $sshd_pid $sshd_drain_pid $emulator_pid; do
        kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

# The sample fixture, with a real RSA key for the SDK 4 Linux instance.
ssh-keygen -q -t rsa -b 2048 -m PEM -N '' -f "$work/key"
fleet=fleet-1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d
instance=i-0123456789abcdef0
target/release/gamelift-emulator --print-sample > "$work/sample.json"
python3 - "$work" "$instance" "$(id -un)" <<'PY'
import json, sys
work, instance, user = sys.argv[1], sys.argv[2], sys.argv[3]
fixture = json.load(open(f"{work}/sample.json"))
for i in fixture["instances"]:
    if i["instance_id"] == instance:
        i["secret"] = open(f"{work}/key").read()
        i["ip_address"] = "127.0.0.1"
        i["user_name"] = user
json.dump(fixture, open(f"{work}/fixture.json", "w"))
PY

start_emulator "$work" --fixture "$work/fixture.json"

mkdir -p "$work/xdg"
export XDG_RUNTIME_DIR="$work/xdg/runtime" XDG_DATA_HOME="$work/xdg/data" XDG_CACHE_HOME="$work/xdg/cache" \
    XDG_STATE_HOME="$work/xdg/state" AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench \
    AWS_REGION=us-west-2 AWS_ENDPOINT_URL="$endpoint" AWS_CONFIG_FILE=/dev/null \
    AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
connect="target/release/gamelift-access connect $fleet $instance --print"
$connect > /dev/null 2>&1   # fill the cache
hyperfine --warmup 3 --shell=none "$@" \
    -n "warm (2 calls)" "$connect" \
    -n "cold (--refresh, 4 calls)" "$connect --refresh"

# The instance: a real sshd on a free port, trusting the key.
cp "$work/key.pub" "$work/authorized_keys"
start_sshd "$work" "$work/authorized_keys"

# The agent, in the foreground of a background job; ready once it prints its socket.
mkfifo "$work/agent-ready"
target/release/gamelift-access agent run --ready-line > "$work/agent-ready" &
agent_pid=$!
read -r socket < "$work/agent-ready"

floor="ssh -i $work/key -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile=$work/floor_known_hosts -o StrictHostKeyChecking=accept-new -p $port $(id -un)@127.0.0.1 true"
through_agent="target/release/gamelift-access connect $fleet $instance --port $port -- true"
$floor
$through_agent   # the key goes into the agent; from now on no GameLift call
# Proof of zero GameLift calls: the emulator is gone, so any call would fail the run.
kill "$emulator_pid"; wait "$emulator_pid" 2>/dev/null || true; emulator_pid=
hyperfine --warmup 3 --shell=none "$@" \
    -n "floor: ssh -i (key on disk)" "$floor" \
    -n "warm connect through the agent (0 calls)" "$through_agent"
# Start to the exec of ssh on that warm path: the same connect with `ssh`
# replaced by `true` (first on PATH), so the time is ours plus one exec of
# a program that does nothing. Target: at most 5 ms.
mkdir -p "$work/no-ssh"
ln -sf "$(type -P true)" "$work/no-ssh/ssh"
# (PATH is set for hyperfine itself, so no `env` exec is timed.)
PATH=$work/no-ssh:$PATH hyperfine --warmup 3 --shell=none "$@" \
    -n "process start only (gamelift-access --version)" "target/release/gamelift-access --version" \
    -n "warm connect through the agent, up to the exec of ssh" "$through_agent"
echo "agent on $socket held: $(SSH_AUTH_SOCK=$socket ssh-add -l)"
