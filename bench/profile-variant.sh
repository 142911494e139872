#!/usr/bin/env bash
# Measures one release-profile variant without editing Cargo.toml:
#
#   bench/profile-variant.sh NAME [KEY=VALUE ...]
#   e.g. bench/profile-variant.sh opt-s OPT_LEVEL=s
#        bench/profile-variant.sh thin  LTO=thin CODEGEN_UNITS=16
#        bench/profile-variant.sh mixed 'profile.release.package."*".opt-level="z"'
#
# Each KEY=VALUE becomes CARGO_PROFILE_RELEASE_KEY=VALUE on top of
# [profile.release]; an argument starting with `profile.` is passed to cargo
# as --config (per-package overrides). The variant gets its own target directory
# (/work/.cache/target-variant-NAME, or $VARIANT_TARGET_ROOT/NAME, or
# $VARIANT_TARGET_DIR), so its build is a clean one and is timed as such;
# KEEP_TARGET=1 reuses it (then the build time is not a clean build's). Measured: clean build of the
# binary (wall), binary size, bootstrap.zip size (deflate, as cargo lambda
# packs it), cold start and cold first delivery (bench/coldstart.py phases a
# and b), per-delivery CPU (criterion groups `delivery` and `steps`).
# Writes bench/profiles/NAME.json. Expensive: about 15 minutes a variant on
# 2 cores. Not part of scripts/bench.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
NAME=${1:?usage: bench/profile-variant.sh NAME [KEY=VALUE ...]}
shift
CONFIG=()
for kv in "$@"; do
    case "$kv" in
        profile.*) CONFIG+=(--config "$kv") ;;
        *) export "CARGO_PROFILE_RELEASE_${kv%%=*}=${kv#*=}" ;;
    esac
done
export CARGO_TARGET_DIR="${VARIANT_TARGET_DIR:-${VARIANT_TARGET_ROOT:-/work/.cache}/target-variant-$NAME}"
RUNS=${RUNS:-30}
OUT=bench/profiles/$NAME.json
mkdir -p bench/profiles
PIECES=$(mktemp -d "${TMPDIR:-/tmp}/gu1-variant.XXXXXX")
trap 'rm -rf "$PIECES"' EXIT

if [ "${KEEP_TARGET:-0}" != 1 ]; then rm -rf "$CARGO_TARGET_DIR"; fi
start=$(date +%s.%N)
timeout 2400 cargo build "${CONFIG[@]}" --release --locked --bin gu1-webhook
build_seconds=$(python3 -c "print(round($(date +%s.%N) - $start, 1))")
BIN=$CARGO_TARGET_DIR/release/gu1-webhook

timeout 2400 cargo bench "${CONFIG[@]}" --locked --bench delivery -- --noplot '^(delivery|delivery_cpu|steps|compare)/'

timeout 1200 .venv/moto/bin/python bench/coldstart.py --binary "$BIN" --phases a,b \
    --runs "$RUNS" --out "$PIECES/coldstart.json" >/dev/null

VARIANT_CONFIG="${CONFIG[*]:-}" python3 - "$NAME" "$BIN" "$build_seconds" "$CARGO_TARGET_DIR/criterion" "$PIECES/coldstart.json" "$OUT" <<'EOF'
import io, json, os, sys, zipfile
sys.path.insert(0, "bench")
from report import criterion_results, release_profile
name, binary, build_seconds, crit, cold, out = sys.argv[1:]
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z, open(binary, "rb") as f:
    info = zipfile.ZipInfo("bootstrap")
    info.external_attr = 0o755 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    z.writestr(info, f.read())
with open(cold) as f:
    cold = json.load(f)
crit = criterion_results(crit)
result = {
    "variant": name,
    "profile": {**release_profile(), "config_args": os.environ.get("VARIANT_CONFIG", "")},
    "clean_build_seconds": float(build_seconds),
    "binary_bytes": os.path.getsize(binary),
    "zip_bytes": len(buf.getvalue()),
    "delivery_approved_1_secret_ns": crit.get("delivery/approved/1_secrets"),
    "delivery_large_64k_1_secret_ns": crit.get("delivery/large_64k/1_secrets"),
    "delivery_cpu_approved_1_secret_ns": crit.get("delivery_cpu/approved/1_secrets"),
    "clean_build": os.environ.get("KEEP_TARGET", "0") != "1",
    "criterion": crit,
    "coldstart_ms": cold["coldstart"]["ms"],
    "first_delivery_spawn_to_response_ms": cold["first_delivery"]["spawn_to_response_ms"],
    "first_delivery_handler_latency_ms": cold["first_delivery"]["handler_latency_ms"],
    "vmhwm_after_first_mib": cold["first_delivery"]["vmhwm_after_first_mib"],
}
with open(out, "w") as f:
    json.dump(result, f, indent=2)
    f.write("\n")
print(json.dumps({k: v for k, v in result.items() if k != "criterion"}, indent=2))
EOF
