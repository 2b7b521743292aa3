#!/usr/bin/env bash
# CI, Windows stage: build gamelift-access for x86_64-pc-windows-gnu with
# Debian's Rust and MinGW, run its unit tests under Wine, and run the exe
# under Wine against the Linux emulator on 127.0.0.1.
#
# A missing compiler or Wine fails this stage loudly: nothing is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

triple=x86_64-pc-windows-gnu
packages=()
[ -x /usr/bin/rustc ] && [ -d /usr/lib/rustlib/src/rust/library ] || packages+=(rustc-web cargo-web rust-web-src)
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || packages+=(gcc-mingw-w64-x86-64)
[ -x /usr/lib/wine/wine64 ] || packages+=(wine64)
if [ ${#packages[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}"
fi
for tool in /usr/bin/rustc /usr/bin/cargo /usr/lib/wine/wine64; do
    [ -x "$tool" ] || { echo "windows stage: $tool is missing" >&2; exit 1; }
done
command -v x86_64-w64-mingw32-gcc >/dev/null || { echo "windows stage: MinGW gcc is missing" >&2; exit 1; }

# Debian's cargo with Debian's rustc, which has the std sources that
# -Zbuild-std compiles for the Windows target (no rustup target here).
export PATH=/usr/bin:$PATH RUSTC_BOOTSTRAP=1
# WINDOWS_TARGET_DIR: where to build (default target/windows), e.g. to reuse a warm one.
export CARGO_TARGET_DIR=${WINDOWS_TARGET_DIR:-$PWD/target/windows}
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=/usr/lib/wine/wine64
export WINEPREFIX WINEDEBUG=-all
WINEPREFIX=$(mktemp -d /tmp/gamelift-access-wine.XXXXXX)
work=$(mktemp -d /tmp/gamelift-access-winci.XXXXXX)
emulator_pid= echo_pid=
cleanup() {
    [ -n "$emulator_pid" ] && kill "$emulator_pid" 2>/dev/null && wait "$emulator_pid" 2>/dev/null
    [ -n "$echo_pid" ] && kill "$echo_pid" 2>/dev/null && wait "$echo_pid" 2>/dev/null
    /usr/lib/wine/wineserver -k 2>/dev/null || true
    rm -rf "$WINEPREFIX" "$work"
}
trap cleanup EXIT
# One std for the tests and the exe: `test` in the list makes `cargo build`
# reuse what `cargo test` built, instead of building every crate twice.
build=(-Zbuild-std=std,panic_abort,test --target "$triple")

echo "windows stage: building gamelift-access.exe and its unit tests"
cargo test "${build[@]}" --bin gamelift-access --no-run
cargo build "${build[@]}" --bin gamelift-access

echo "windows stage: preparing Wine"
/usr/lib/wine/wine64 wineboot --init >/dev/null 2>&1
/usr/lib/wine/wineserver -w
system32=$WINEPREFIX/drive_c/windows/system32
# Wine 8 lacks bcryptprimitives.dll (ProcessPrng), which Rust's std imports;
# a stand-in for testing only (see .ci/wine/bcryptprimitives.c).
x86_64-w64-mingw32-gcc -O2 -shared -o "$system32/bcryptprimitives.dll" .ci/wine/bcryptprimitives.c -ladvapi32
mkdir -p "$work/bin"
x86_64-w64-mingw32-gcc -O2 -o "$work/bin/ssh.exe" .ci/wine/fake-ssh.c

echo "windows stage: unit tests under Wine"
cargo test "${build[@]}" --bin gamelift-access

exe=$CARGO_TARGET_DIR/$triple/debug/gamelift-access.exe
wine() { /usr/lib/wine/wine64 "$@"; }

echo "windows stage: the exe against the emulator"
cargo build --release -p gamelift-emulator
# The emulator this stage just built (not one a Linux build left in target/release).
emulator_bin=$CARGO_TARGET_DIR/release/gamelift-emulator
# The sample account, with a real RSA key as the Linux instance's secret.
ssh-keygen -q -t rsa -b 2048 -m PEM -N '' -f "$work/instance-key"
"$emulator_bin" --print-sample | python3 -c '
import json, sys
fixture = json.load(sys.stdin)
for instance in fixture["instances"]:
    if instance["instance_id"] == sys.argv[2]:
        instance["secret"] = open(sys.argv[1]).read()
json.dump(fixture, open(sys.argv[3], "w"))' "$work/instance-key" i-0123456789abcdef0 "$work/fixture.json"
"$emulator_bin" --port 0 --fixture "$work/fixture.json" --count-calls "$work/calls" > "$work/emulator.out" &
emulator_pid=$!
for _ in $(seq 100); do grep -q '^listening on ' "$work/emulator.out" && break; sleep 0.1; done
endpoint=$(sed -n 's/^listening on //p' "$work/emulator.out")
[ -n "$endpoint" ] || { echo "windows stage: the emulator did not start" >&2; exit 1; }
export AWS_ACCESS_KEY_ID=AKIDGAMELIFTDEMO0000 AWS_SECRET_ACCESS_KEY=demo-secret-access-key AWS_REGION=us-west-2
export AWS_ENDPOINT_URL=$endpoint
: > "$work/aws-config"
export AWS_CONFIG_FILE=$work/aws-config AWS_SHARED_CREDENTIALS_FILE=$work/aws-config AWS_EC2_METADATA_DISABLED=true
export WINEPATH="Z:${work//\//\\}\\bin"
export FAKE_SSH_LOG="Z:${work//\//\\}\\ssh.log"
password='Pa55w.rd-Emulator!'
linux_fleet=fleet-1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d linux_instance=i-0123456789abcdef0
windows_fleet=fleet-2b3c4d5e-6f70-4b8c-9d0e-1f2a3b4c5d6e windows_instance=i-0fedcba9876543210
fail() { echo "windows stage: $*" >&2; exit 1; }

wine "$exe" --help > "$work/help" || fail "--help failed"
grep -q 'connect' "$work/help" || fail "--help does not list connect"

wine "$exe" --endpoint-url "$endpoint" connect "$windows_fleet" "$windows_instance" --show-password \
    > "$work/pw.out" 2> "$work/pw.err" || fail "connect --show-password failed: $(cat "$work/pw.err")"
[ "$(tr -d '\r' < "$work/pw.out")" = "$password" ] || fail "--show-password printed something else"
grep -qF "$password" "$work/pw.err" && fail "the password leaked to stderr"

wine "$exe" --endpoint-url "$endpoint" connect "$linux_fleet" "$linux_instance" --print \
    > "$work/print.out" 2> "$work/print.err" || fail "connect --print failed: $(cat "$work/print.err")"
grep -q 'ssh.exe' "$work/print.out" || fail "--print does not name ssh.exe: $(cat "$work/print.out")"
grep -q "HostKeyAlias=$linux_instance" "$work/print.out" || fail "--print lacks HostKeyAlias"

# A real connect: the key goes to an owner-only file, the (recording) ssh.exe
# gets it with -i, its exit code 7 comes back, and the key file is gone.
set +e
wine "$exe" --endpoint-url "$endpoint" connect "$linux_fleet" "$linux_instance" -- uname -a \
    > "$work/connect.out" 2> "$work/connect.err"
code=$?
set -e
[ "$code" = 7 ] || fail "connect exited $code, not ssh.exe's 7: $(cat "$work/connect.err")"
grep -qx 'key: rsa' "$work/ssh.log" || fail "ssh.exe did not find the key: $(cat "$work/ssh.log")"
grep -qx -- '-i' "$work/ssh.log" || fail "no -i on ssh.exe's command line"
grep -qx 'uname' "$work/ssh.log" || fail "the remote command did not reach ssh.exe"
keys=$(find "$WINEPREFIX/drive_c" -name '*.pem' | wc -l)
[ "$keys" = 0 ] || fail "a key file was left behind"
grep -q 'BEGIN RSA' "$work/connect.out" "$work/connect.err" && fail "the key leaked to the output"
key_body=$(sed -n 2p "$work/instance-key")
grep -qF "$key_body" "$work/connect.out" "$work/connect.err" "$work/ssh.log" && fail "the key leaked"

# The agent on its named pipe: start, status, a connect that gives the key
# to the agent (no key file) and ssh.exe -o IdentityAgent=<pipe>, stop.
# The recording ssh.exe opens the pipe it was given and lists the agent's
# keys, as the real one would.
wine "$exe" agent start --output json > "$work/agent-start.json" 2> "$work/agent-start.err" \
    || fail "agent start failed: $(cat "$work/agent-start.err")"
pipe=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["already_running"] is False, d; print(d["socket"])' \
    "$work/agent-start.json") || fail "agent start --output json: $(cat "$work/agent-start.json")"
case "$pipe" in
    '\\.\pipe\gamelift-access-agent-S-1-5-'*) ;;
    *) fail "agent start: not the per-user default pipe: $pipe" ;;
esac
wine "$exe" agent start > "$work/agent-again.out" 2> "$work/agent-again.err" || fail "a second agent start failed"
grep -q 'already running' "$work/agent-again.err" || fail "a second agent start: $(cat "$work/agent-again.err")"
wine "$exe" agent status --output json > "$work/agent-status.json" || fail "agent status failed"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["running"] and d["socket"] == sys.argv[2] and d["keys"] == [], d' \
    "$work/agent-status.json" "$pipe" || fail "agent status: $(cat "$work/agent-status.json")"

rm -f "$work/ssh.log"
set +e
wine "$exe" --endpoint-url "$endpoint" connect "$linux_fleet" "$linux_instance" -- uname -a \
    > "$work/agent-connect.out" 2> "$work/agent-connect.err"
code=$?
set -e
[ "$code" = 7 ] || fail "connect through the agent exited $code, not 7: $(cat "$work/agent-connect.err")"
grep -q '^IdentityAgent=' "$work/ssh.log" || fail "no IdentityAgent for ssh.exe: $(cat "$work/ssh.log")"
grep -qxF "agent: $pipe" "$work/ssh.log" || fail "ssh.exe was not given the agent's pipe: $(cat "$work/ssh.log")"
grep -q "^agent key: gamelift-access fleet=$linux_fleet instance=$linux_instance " "$work/ssh.log" \
    || fail "ssh.exe found no instance key in the agent: $(cat "$work/ssh.log")"
grep -qx 'key: public' "$work/ssh.log" || fail "ssh.exe's -i is not the public key: $(cat "$work/ssh.log")"
grep -qx 'IdentitiesOnly=yes' "$work/ssh.log" || fail "no IdentitiesOnly=yes"
keys=$(find "$WINEPREFIX/drive_c" -name '*.pem' | wc -l)
[ "$keys" = 0 ] || fail "connect through the agent wrote a key file"
grep -qF "$key_body" "$work/agent-connect.out" "$work/agent-connect.err" "$work/ssh.log" && fail "the key leaked"
wine "$exe" agent status --output json > "$work/agent-status.json" || fail "agent status failed"
python3 -c 'import json,sys; k=json.load(open(sys.argv[1]))["keys"]; assert [x["instance_id"] for x in k] == [sys.argv[2]], k' \
    "$work/agent-status.json" "$linux_instance" || fail "agent status: $(cat "$work/agent-status.json")"
grep -qF "$key_body" "$work/agent-status.json" && fail "agent status shows the key"

# A reconnect uses the key the agent holds: the emulator goes unasked. (Its
# call count is rewritten every 50 ms; each Wine run takes far longer.)
calls=$(cat "$work/calls")
set +e
wine "$exe" --endpoint-url "$endpoint" connect "$linux_fleet" "$linux_instance" -- true \
    > "$work/agent-connect2.out" 2> "$work/agent-connect2.err"
code=$?
set -e
[ "$code" = 7 ] || fail "the second connect exited $code: $(cat "$work/agent-connect2.err")"
grep -qxF "agent: $pipe" "$work/ssh.log" || fail "the second connect did not use the agent"
grep -q "^agent key: gamelift-access fleet=$linux_fleet instance=$linux_instance " "$work/ssh.log" \
    || fail "the second connect: no instance key in the agent"
wine "$exe" agent status > /dev/null || fail "agent status failed"
[ "$(cat "$work/calls")" = "$calls" ] || fail "the second connect called GameLift ($calls, then $(cat "$work/calls") calls)"

wine "$exe" agent stop > "$work/agent-stop.out" 2> "$work/agent-stop.err" \
    || fail "agent stop failed: $(cat "$work/agent-stop.err")"
set +e
wine "$exe" agent status > "$work/agent-status.out"
code=$?
set -e
[ "$code" = 3 ] || fail "agent status after stop exited $code, not 3: $(cat "$work/agent-status.out")"

# proxy (ssh's ProxyCommand): starts the agent, has it hold the key, and
# relays stdin/stdout to the instance's port, here a one-connection echo
# server with an ssh-like banner on 127.0.0.1 (the instance's address).
python3 - "$work/echo.port" <<'PY' &
import os, socket, sys
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(1)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(server.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
conn, _ = server.accept()
conn.sendall(b"SSH-2.0-ci-echo\r\n")
while True:
    data = conn.recv(65536)
    if not data:
        break
    conn.sendall(data)
conn.close()
PY
echo_pid=$!
for _ in $(seq 100); do [ -s "$work/echo.port" ] && break; sleep 0.1; done
echo_port=$(cat "$work/echo.port") || fail "the echo server did not start"
printf 'ping over the proxy\n' > "$work/proxy.in"
wine "$exe" --endpoint-url "$endpoint" proxy "$linux_instance.$linux_fleet.gamelift" "$echo_port" \
    < "$work/proxy.in" > "$work/proxy.out" 2> "$work/proxy.err" || fail "proxy failed: $(cat "$work/proxy.err")"
wait "$echo_pid" || fail "the echo server failed"
echo_pid=
printf 'SSH-2.0-ci-echo\r\nping over the proxy\n' | cmp -s - "$work/proxy.out" \
    || fail "proxy relayed something else: $(od -c "$work/proxy.out" | head)"
wine "$exe" agent status --output json > "$work/agent-status.json" || fail "proxy left no agent running"
python3 -c 'import json,sys; k=json.load(open(sys.argv[1]))["keys"]; assert [x["instance_id"] for x in k] == [sys.argv[2]], k' \
    "$work/agent-status.json" "$linux_instance" || fail "after proxy, agent status: $(cat "$work/agent-status.json")"
grep -qF "$key_body" "$work/proxy.out" "$work/proxy.err" && fail "proxy leaked the key"
wine "$exe" agent stop > /dev/null 2>&1 || fail "agent stop after proxy failed"

wine "$exe" --endpoint-url "$endpoint" fleets --output json > "$work/fleets.json" \
    || fail "fleets --output json failed"
python3 -c "import json,sys; ids=[f['fleet_id'] for f in json.load(open(sys.argv[1]))]; assert sys.argv[2] in ids, ids" \
    "$work/fleets.json" "$linux_fleet" || fail "fleets --output json: $(cat "$work/fleets.json")"

# Build upload credentials: the one output that carries them, as JSON.
wine "$exe" --endpoint-url "$endpoint" build credentials build-1a2b3c4d-5e6f-4a7b-8c9d-000000000004 --format json \
    > "$work/creds.json" 2> "$work/creds.err" || fail "build credentials failed: $(cat "$work/creds.err")"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); c=d['upload_credentials']; \
assert c['access_key_id'] and c['secret_access_key'] and c['session_token'] and d['storage_location']['bucket'], d" \
    "$work/creds.json" || fail "build credentials --format json: unexpected output"
secret=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['upload_credentials']['secret_access_key'])" "$work/creds.json")
grep -qF "$secret" "$work/creds.err" && fail "the upload secret leaked to stderr"

# Lightsail bucket keys: the listing, with the (empty) local store on Windows.
wine "$exe" --endpoint-url "$endpoint" bucket-key list game-builds --output json \
    > "$work/keys.json" 2> "$work/keys.err" || fail "bucket-key list failed: $(cat "$work/keys.err")"
python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$work/keys.json" \
    || fail "bucket-key list --output json: $(cat "$work/keys.json")"

echo "windows stage: passed"
