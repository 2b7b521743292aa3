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
