#!/usr/bin/env bash
# gb-core's footprint (issue 18), as the README reports it:
#
#   bash .ci/size.sh wasm       # wasm32 cdylib (load a payload, evaluate one feature), with and
#                               # without the `regex` feature: bytes and gzipped bytes
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

wasm() {
    local out="$target_dir/wasm32-unknown-unknown/release/gb_wasm_size.wasm"
    printf '%-26s %10s %10s\n' "wasm32 cdylib" bytes gzipped
    for variant in default no-regex; do
        local flags=()
        [ "$variant" = no-regex ] && flags=(--no-default-features)
        timeout 900 cargo build --quiet --release --locked --target wasm32-unknown-unknown \
            --manifest-path examples/wasm-size/Cargo.toml --target-dir "$target_dir" "${flags[@]}"
        [ -f "$out" ] || { echo "error: $out was not built"; exit 1; }
        printf '%-26s %10d %10d\n' "$variant" "$(wc -c <"$out")" "$(gzip -9c "$out" | wc -c)"
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
