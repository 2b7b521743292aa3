#!/usr/bin/env bash
# Benchmark: `run` over 50 instances with --parallel 16, against what a user
# would do without it: a shell loop of `connect` one instance at a time.
# The GameLift emulator's `many` fleet has every instance at 127.0.0.1, all
# played by one real OpenSSH sshd started here; each instance runs `true`.
# Also counts GameLift calls per instance for each way, from the emulator's
# own request log.
#
#   benches/run.sh [extra hyperfine options]     (needs hyperfine and sshd)
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh
command -v hyperfine >/dev/null || { echo "needs hyperfine: apt-get install hyperfine" >&2; exit 72; }
N=${N:-50}

cargo build --release --quiet --workspace
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# The instance: a real sshd on 127.0.0.1 that accepts the key GameLift hands out.
ssh-keygen -q -t rsa -b 2048 -m PEM -N '' -f "$work/instance_key"
cp "$work/instance_key.pub" "$work/authorized_keys"
start_sshd "$work" "$work/authorized_keys" "MaxStartups 256" "Subsystem sftp internal-sftp"
pids+=("$sshd_pid" "$sshd_drain_pid")

# The emulator with N instances, counting the requests it serves.
start_emulator "$work" --many-instances "$N" --many-user "$(id -un)" \
    --many-key "$work/instance_key" --count-calls "$work/calls"
pids+=("$emulator_pid")

mkdir -p "$work/xdg"
export XDG_RUNTIME_DIR="$work/xdg/runtime" XDG_DATA_HOME="$work/xdg/data" XDG_CACHE_HOME="$work/xdg/cache" \
    XDG_STATE_HOME="$work/xdg/state" AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench \
    AWS_REGION=us-west-2 AWS_ENDPOINT_URL="$endpoint" AWS_CONFIG_FILE=/dev/null \
    AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
bin=$PWD/target/release/gamelift-access
fleet=fleet-9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d
ids=$(for n in $(seq 1 "$N"); do printf 'i-%017x ' "$n"; done)
run="$bin run $fleet --port $port --parallel 16 -- true"
loop="for i in $ids; do $bin connect $fleet \$i --port $port -- true || exit; done"

# Warm the fleet cache and known_hosts, then count calls for one round of each.
$run > /dev/null 2>&1
calls() { sleep 0.2; cat "$work/calls"; }   # the count is rewritten every 50 ms
before=$(calls); $run > /dev/null 2>&1; run_calls=$(( $(calls) - before ))
before=$(calls); bash -c "$loop" > /dev/null 2>&1; loop_calls=$(( $(calls) - before ))

hyperfine --warmup 1 --runs 5 "$@" \
    -n "run, $N instances, --parallel 16" "$run" \
    -n "shell loop of connect, $N instances" "$loop"
echo "GameLift calls per instance: run $(python3 -c "print(round($run_calls / $N, 2))") ($run_calls for $N), connect loop $(python3 -c "print(round($loop_calls / $N, 2))") ($loop_calls for $N)"
