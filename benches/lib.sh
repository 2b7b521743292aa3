# Shared by the benchmark scripts (sourced, not run).

# start_emulator DIR [ARGS…]: runs target/release/gamelift-emulator on a free
# port with ARGS, in the background, and returns once it answers: it reads
# the emulator's "listening on" line (and its "s3 on" line, with --s3-port)
# from a FIFO in DIR, so no sleep stands in for readiness. Sets
# emulator_pid, endpoint and s3; the caller kills and waits on $emulator_pid
# on its way out.
start_emulator() {
    local dir=$1 line
    shift
    mkfifo "$dir/emulator.out"
    target/release/gamelift-emulator --port 0 "$@" > "$dir/emulator.out" &
    emulator_pid=$!
    exec 9< "$dir/emulator.out"
    read -r line <&9 || { echo "the emulator did not start" >&2; return 1; }
    endpoint=${line#listening on }
    s3=
    case " $* " in
    *" --s3-port "*)
        read -r line <&9 || { echo "the emulator's S3 front did not start" >&2; return 1; }
        s3=${line#s3 on }
        ;;
    esac
    exec 9<&-
}

# start_sshd DIR AUTHORIZED_KEYS [sshd_config lines…]: a real OpenSSH sshd on
# a free port of 127.0.0.1, in the foreground of a background job, trusting
# the keys in AUTHORIZED_KEYS; returns once it logs that it listens. Sets
# port, sshd_pid and sshd_drain_pid (the reader that keeps draining its
# log); the caller kills and waits on sshd_pid, then waits on sshd_drain_pid.
start_sshd() {
    local dir=$1 keys=$2 sshd line listening=false
    shift 2
    sshd=$(command -v sshd || echo /usr/sbin/sshd)
    [ -x "$sshd" ] || { echo "needs sshd: apt-get install openssh-server" >&2; return 72; }
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key"
    printf '%s\n' "ListenAddress 127.0.0.1:$port" "HostKey $dir/host_key" "AuthorizedKeysFile $keys" \
        "PidFile none" "PasswordAuthentication no" "KbdInteractiveAuthentication no" \
        "PermitRootLogin prohibit-password" "UsePAM no" "StrictModes no" "$@" > "$dir/sshd_config"
    mkdir -p /run/sshd 2>/dev/null || true
    mkfifo "$dir/sshd.log"
    "$sshd" -D -e -f "$dir/sshd_config" 2> "$dir/sshd.log" &
    sshd_pid=$!
    exec 8< "$dir/sshd.log"
    while read -r line <&8; do
        case $line in *"Server listening"*) listening=true; break ;; esac
    done
    $listening || { echo "sshd did not start: $line" >&2; return 1; }
    cat <&8 > /dev/null &
    sshd_drain_pid=$!
    exec 8<&-
}
