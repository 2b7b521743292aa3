#!/usr/bin/env bash
# Zip throughput and output size per compression policy (store everything,
# deflate 1, 6, 9, and storing incompressible files), through the product's
# own walk and zip stream (benches/zip_levels.rs), on two ~120 MB trees:
#
#   mixed:        benches/upload.sh's tree, a 64 MiB random binary plus 300
#                 base64 text files (mostly incompressible)
#   compressible: what a server build mostly holds when it is not packed
#                 assets: executables (this project's release binaries),
#                 source/text (the first 40 MB of .rs files in the cargo
#                 registry), JSON (generated), and uncompressed assets (a
#                 16-bit PCM WAV and a raw RGBA image, generated)
#
# Generated files use fixed seeds; the copied ones depend on the machine.
# Run from anywhere: benches/zip_levels.sh [RUNS] (default 3 runs per policy).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}

cargo build --release --quiet --bin gamelift-access -p gamelift-access
cargo build --release --quiet -p gamelift-emulator
# Built with the release profile (as the product ships) and run directly:
# `cargo bench` would compile everything again under the bench profile.
bench=$(cargo build --release --quiet -p gamelift-access --bench zip_levels --message-format=json |
    python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "zip_levels" and m.get("executable"):
        print(m["executable"])')

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# mixed: as benches/upload.sh makes it.
mkdir -p "$work/mixed/bin" "$work/mixed/data"
head -c $((64 * 1024 * 1024)) /dev/urandom > "$work/mixed/bin/server"
for i in $(seq 1 300); do
    base64 -w 100 < <(head -c 140000 /dev/urandom) > "$work/mixed/data/config-$i.txt"
done

# compressible
c=$work/compressible
mkdir -p "$c/bin" "$c/src" "$c/data" "$c/assets"
cp target/release/gamelift-access target/release/gamelift-emulator "$c/bin/"
budget=$((40 * 1000 * 1000))
n=0
while IFS= read -r -d '' f; do
    size=$(stat -c %s "$f")
    [ $((budget - size)) -gt 0 ] || break
    budget=$((budget - size))
    n=$((n + 1))
    cp "$f" "$c/src/$n-$(basename "$f")"
done < <(find "${CARGO_HOME:-$HOME/.cargo}/registry/src" -name '*.rs' -type f -print0 | sort -z)
python3 - "$c" <<'EOF'
import json, math, random, struct, sys, wave
root = sys.argv[1]
rng = random.Random(9)
# JSON: 20 files of game data, ~1 MB each.
for i in range(20):
    rows = [{"id": i * 10000 + j, "name": f"item-{rng.randrange(5000)}",
             "kind": rng.choice(["weapon", "armor", "potion", "quest", "npc"]),
             "stats": {"hp": rng.randrange(1000), "dmg": round(rng.random() * 100, 2),
                       "tags": rng.sample(["rare", "fire", "ice", "boss", "shop", "drop"], 2)},
             "pos": [round(rng.uniform(-1e3, 1e3), 3) for _ in range(3)]}
            for j in range(5200)]
    with open(f"{root}/data/items-{i:02}.json", "w") as f:
        json.dump(rows, f, indent=2)
# A 16-bit stereo PCM WAV, 44.1 kHz, 90 s: two tones plus a little noise.
with wave.open(f"{root}/assets/ambience.wav", "wb") as w:
    w.setnchannels(2); w.setsampwidth(2); w.setframerate(44100)
    frames = bytearray()
    for t in range(44100 * 90):
        s = 0.4 * math.sin(2 * math.pi * 220 * t / 44100) + 0.2 * math.sin(2 * math.pi * 331 * t / 44100)
        v = int(12000 * s + rng.gauss(0, 300))
        frames += struct.pack("<hh", v, v)
    w.writeframes(bytes(frames))
# A raw 2048x1024 RGBA texture: gradients plus noise.
img = bytearray()
for y in range(1024):
    for x in range(2048):
        img += bytes(((x >> 3) & 255, (y >> 2) & 255, ((x ^ y) >> 4 & 255) | rng.randrange(4), 255))
open(f"{root}/assets/terrain.rgba", "wb").write(bytes(img))
EOF
du -sh "$work/mixed" "$c"

"$bench" --runs "$runs" "$work/mixed" "$c"
