#!/usr/bin/env bash
# gb-core's footprint (issue 18), as the README reports it:
#
#   bash .ci/size.sh wasm       # wasm32 cdylib (load a payload, evaluate one feature), with and
#                               # without the `regex` feature (and without it on dlmalloc instead
#                               # of talc): bytes and gzipped bytes, raw and
#                               # after binaryen's wasm-opt -Oz (from npm, if npm is there);
#                               # fails if the raw default build is over 400,000 bytes
#   bash .ci/size.sh firmware   # thumbv7em-none-eabihf firmware: flash (text + rodata + data
#                               # image) and, under QEMU (mps2-an386), the heap it counted
#
# Both crates live under examples/ as workspaces of their own (their own release profile,
# target and panic handler), built into this checkout's target dir (or CARGO_TARGET_DIR) so the
# figures are read from one place. Every step is bounded in time. Under CI=true a missing QEMU fails.
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"

elf_flash() { # bytes the ELF puts in flash: every allocated, non-NOBITS section below RAM
    python3 - "$1" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
assert d[:4] == b"\x7fELF" and d[4] == 1, "32-bit ELF expected"
shoff, = struct.unpack_from("<I", d, 0x20)
shentsize, shnum, shstrndx = struct.unpack_from("<HHH", d, 0x2E)
secs = [struct.unpack_from("<IIIIIIIIII", d, shoff + i * shentsize) for i in range(shnum)]
names = secs[shstrndx][4]
def name(s): return d[names + s[0]:d.index(b"\0", names + s[0])].decode()
total = 0
for s in secs:
    flags, addr, size, typ = s[2], s[3], s[5], s[1]
    if flags & 2 and typ != 8 and size:  # SHF_ALLOC, not SHT_NOBITS (.bss)
        print(f"  {name(s):<16} {size:>8}")
        total += size
print(f"  flash total      {total:>8} bytes ({total / 1024:.1f} KiB)")
PY
}

# binaryen's wasm-opt (what wasm-pack runs by default), pinned, from npm into the target dir.
wasm_opt() {
    local dir="$target_dir/binaryen-123"
    if [ ! -x "$dir/node_modules/.bin/wasm-opt" ] && command -v npm >/dev/null 2>&1; then
        mkdir -p "$dir"
        timeout 300 npm install --silent --no-audit --no-fund --prefix "$dir" binaryen@123.0.0 \
            >/dev/null 2>&1 || true
    fi
    [ -x "$dir/node_modules/.bin/wasm-opt" ] && echo "$dir/node_modules/.bin/wasm-opt"
}

# Issue 18's target for the default build (bytes of the raw cdylib, before wasm-opt).
WASM_DEFAULT_LIMIT=400000

wasm() {
    local out="$target_dir/wasm32-unknown-unknown/release/gb_wasm_size.wasm"
    local opt
    opt="$(wasm_opt || true)"
    printf '%-26s %10s %10s %14s %14s\n' "wasm32 cdylib" bytes gzipped "wasm-opt -Oz" "(gzipped)"
    for variant in default no-regex "no-regex, dlmalloc"; do
        local flags=()
        case "$variant" in
            no-regex) flags=(--no-default-features) ;;
            "no-regex, dlmalloc") flags=(--no-default-features --features dlmalloc) ;;
        esac
        timeout 900 cargo build --quiet --release --locked --target wasm32-unknown-unknown \
            --manifest-path examples/wasm-size/Cargo.toml --target-dir "$target_dir" "${flags[@]}"
        [ -f "$out" ] || { echo "error: $out was not built"; exit 1; }
        local bytes optimized="-" optimized_gz="-"
        bytes="$(wc -c <"$out")"
        if [ -n "$opt" ]; then
            timeout 300 "$opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
                --enable-sign-ext --enable-mutable-globals "$out" -o "$out.opt"
            optimized="$(wc -c <"$out.opt")"
            optimized_gz="$(gzip -9c "$out.opt" | wc -c)"
        fi
        printf '%-26s %10d %10d %14s %14s\n' "$variant" "$bytes" "$(gzip -9c "$out" | wc -c)" \
            "$optimized" "$optimized_gz"
        if [ "$variant" = default ] && [ "$bytes" -gt "$WASM_DEFAULT_LIMIT" ]; then
            echo "error: the default wasm32 build is $bytes bytes, over $WASM_DEFAULT_LIMIT (issue 18)"
            exit 1
        fi
    done
}

firmware() {
    local elf="$target_dir/thumbv7em-none-eabihf/release/gb-firmware"
    for variant in default no-regex; do
        local flags=()
        [ "$variant" = no-regex ] && flags=(--no-default-features)
        (cd examples/firmware &&
            timeout 900 cargo build --quiet --release --locked --target-dir "$target_dir" "${flags[@]}")
        [ -f "$elf" ] || { echo "error: $elf was not built"; exit 1; }
        echo "firmware ($variant), thumbv7em-none-eabihf, opt-level z + LTO:"
        elf_flash "$elf"
        if ! command -v qemu-system-arm >/dev/null 2>&1; then
            local sudo=""
            [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && sudo=sudo
            { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
                --no-install-recommends qemu-system-arm >/dev/null; } || true
        fi
        if command -v qemu-system-arm >/dev/null 2>&1; then
            timeout 120 qemu-system-arm -cpu cortex-m4 -machine mps2-an386 -nographic \
                -semihosting-config enable=on,target=native -kernel "$elf" | sed 's/^/  /'
        elif [ "${CI:-}" = true ]; then
            echo "error: qemu-system-arm is needed to measure the firmware's heap"; exit 1
        else
            echo "  (qemu-system-arm not installed: heap not measured)"
        fi
    done
}

case "${1:-}" in
    wasm) wasm ;;
    firmware) firmware ;;
    *) echo "usage: bash .ci/size.sh <wasm|firmware>" >&2; exit 2 ;;
esac
