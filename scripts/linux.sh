#!/usr/bin/env bash
# Debian 13's riscv64 Linux kernel and busybox on Ferrite's virt board.
#
#   scripts/linux.sh fetch          fetch the packages into the cache (idempotent)
#   scripts/linux.sh build DIR      build DIR/initramfs.cpio.gz and DIR/root.ext4
#   scripts/linux.sh boot [OPTS]    boot to a busybox shell (OPTS go to ferrite run)
#   scripts/linux.sh boot-disk [OPTS]  the same, with the root on a virtio disk
#   scripts/linux.sh boot-display [OPTS]  the same with a bochs-display and
#                                   Linux's bochs DRM driver (add --display vnc::5900)
#   scripts/linux.sh bench [RUNS]   time to the shell prompt, Ferrite and QEMU in turn
#
# The packages come from the Debian archive this machine's apt already uses
# (suite trixie, architecture riscv64) through a private apt configuration:
# its own sources list, lists, cache and status file, so the host's apt is
# untouched. Needs apt-get, dpkg, xz, cpio, gzip and mke2fs (e2fsprogs).
# FERRITE_DEBIAN_DIR sets the cache (default: .cache/debian-riscv64 in the
# checkout); FERRITE sets the ferrite binary (default: cargo run --release).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${FERRITE_DEBIAN_DIR:-$root/.cache/debian-riscv64}
mirror=${DEBIAN_MIRROR:-}
packages=(linux-image-riscv64 busybox-static)
fw_jump=/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf
# The kernel modules the virtio root disk needs, in load order.
modules=(
    lib/crc16 crypto/crc32c_generic fs/mbcache fs/jbd2/jbd2 fs/ext4/ext4
    drivers/virtio/virtio_mmio drivers/block/virtio_blk
)
# The modules of Linux's bochs DRM driver (for --device bochs-display), in
# load order; the init loads them when the command line says `display`.
display_modules=(
    drivers/gpu/drm/drm drivers/gpu/drm/drm_kms_helper drivers/gpu/drm/ttm/ttm
    drivers/gpu/drm/drm_ttm_helper drivers/gpu/drm/drm_vram_helper drivers/gpu/drm/tiny/bochs
)

die() { echo "linux.sh: $*" >&2; exit 1; }

# The archive the host's apt uses (deb.debian.org when none is found).
host_mirror() {
    local m
    m=$(grep -rhE '^(deb|URIs:)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null |
        grep -oE 'https?://[^ ]+/debian/?( |$)' | tr -d ' ' | head -n1 || true)
    echo "${m:-http://deb.debian.org/debian}"
}

apt_private() {
    local tool=$1
    shift
    "$tool" -q -o Dir::Etc::SourceList="$cache/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null \
        -o Dir::State::Lists="$cache/apt/lists" -o Dir::Cache="$cache/apt/cache" \
        -o Dir::State::status="$cache/apt/status" -o APT::Architecture=riscv64 \
        -o APT::Architectures::=riscv64 -o Debug::NoLocking=1 "$@"
}

# The modules, decompressed (busybox's insmod takes plain ELF), from the
# unpacked kernel package; only those not yet there.
extract_modules() {
    local vmlinux release m
    vmlinux=$(ls "$cache"/x/boot/vmlinux-* | head -n1)
    release=${vmlinux##*/vmlinux-}
    mkdir -p "$cache/modules"
    for m in "${modules[@]}" "${display_modules[@]}"; do
        [[ -f $cache/modules/${m##*/}.ko ]] ||
            xz -dc "$cache/x/usr/lib/modules/$release/kernel/$m.ko.xz" >"$cache/modules/${m##*/}.ko"
    done
}

fetch() {
    if [[ -f $cache/ready ]]; then
        extract_modules
        return
    fi
    for tool in apt-get dpkg xz; do
        command -v "$tool" >/dev/null || die "$tool is needed"
    done
    rm -rf "$cache"
    mkdir -p "$cache"/apt/lists/partial "$cache"/apt/cache/archives/partial "$cache/debs" "$cache/x"
    : >"$cache/apt/status"
    echo "deb [arch=riscv64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${mirror:-$(host_mirror)} trixie main" \
        >"$cache/apt/sources.list"
    apt_private apt-get update >/dev/null
    # linux-image-riscv64 is a metapackage: the kernel is its dependency.
    local kernel_pkg
    kernel_pkg=$(apt_private apt-cache depends linux-image-riscv64 2>/dev/null |
        grep -oE 'linux-image-[0-9][^ ]*-riscv64' | head -n1)
    [[ -n $kernel_pkg ]] || die "linux-image-riscv64 names no kernel package"
    (cd "$cache/debs" && apt_private apt-get download "$kernel_pkg" busybox-static >/dev/null)
    for deb in "$cache"/debs/*.deb; do
        dpkg -x "$deb" "$cache/x"
    done
    local vmlinux
    vmlinux=$(ls "$cache"/x/boot/vmlinux-* | head -n1)
    local release=${vmlinux##*/vmlinux-}
    ln -sf "x/boot/vmlinux-$release" "$cache/Image"
    extract_modules
    echo "$kernel_pkg" >"$cache/kernel-package"
    touch "$cache/ready"
}

# What both inits start with: busybox installs its applet links (it is a
# riscv64 binary, so the host cannot ask it for its list), then the kernel's
# file systems are mounted.
init_preamble() {
    cat <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
INIT
}

# The init of the initramfs: a shell on the console, or (with root=/dev/vda
# on the command line) the disk's modules loaded in the order of
# /modules/order and the root switched to the disk.
write_init() {
    {
        init_preamble
        cat <<'INIT'
case " $(cat /proc/cmdline) " in
*" display "*)
    for m in $(cat /modules/display-order); do
        insmod /modules/$m.ko || echo "init: insmod $m failed"
    done
    ;;
esac
case " $(cat /proc/cmdline) " in
*" root=/dev/vda "*)
    for m in $(cat /modules/order); do
        insmod /modules/$m.ko || echo "init: insmod $m failed"
    done
    mkdir -p /newroot
    n=0
    while [ ! -b /dev/vda ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
    mount -t ext4 /dev/vda /newroot || exec sh
    mount --move /dev /newroot/dev
    umount /proc /sys
    exec switch_root /newroot /init
    ;;
esac
echo "initramfs shell"
exec setsid cttyhack sh
INIT
    } >"$1"
    chmod 755 "$1"
}

# The init of the disk: the same shell, on the disk's root.
write_disk_init() {
    {
        init_preamble
        cat <<'INIT'
mount -o remount,rw /
echo "disk root shell"
exec setsid cttyhack sh
INIT
    } >"$1"
    chmod 755 "$1"
}

# A busybox tree: the binary, the directories its links and the kernel's
# file systems go in.
busybox_tree() {
    local dir=$1
    mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,root,etc}
    cp "$cache/x/usr/bin/busybox" "$dir/bin/busybox"
}

build() {
    local out=${1:?build needs an output directory}
    fetch
    command -v cpio >/dev/null || die "cpio is needed"
    command -v mke2fs >/dev/null || die "mke2fs (e2fsprogs) is needed"
    mkdir -p "$out"
    local tmp
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' RETURN
    busybox_tree "$tmp/initramfs"
    mkdir -p "$tmp/initramfs/modules"
    cp "$cache"/modules/*.ko "$tmp/initramfs/modules/"
    printf '%s\n' "${modules[@]##*/}" >"$tmp/initramfs/modules/order"
    printf '%s\n' "${display_modules[@]##*/}" >"$tmp/initramfs/modules/display-order"
    write_init "$tmp/initramfs/init"
    (cd "$tmp/initramfs" && find . -print0 | LC_ALL=C sort -z |
        cpio --null --create --format=newc --owner=0:0 --quiet --reproducible) |
        gzip -9n >"$out/initramfs.cpio.gz"
    busybox_tree "$tmp/disk"
    write_disk_init "$tmp/disk/init"
    rm -f "$out/root.ext4"
    E2FSPROGS_FAKE_TIME=0 mke2fs -q -t ext4 -E root_owner=0:0 -d "$tmp/disk" "$out/root.ext4" 32M >/dev/null
}

ferrite() {
    if [[ -n ${FERRITE:-} ]]; then
        "$FERRITE" "$@"
    else
        cargo run --quiet --release --manifest-path "$root/Cargo.toml" -p ferrite-cli -- "$@"
    fi
}

cmd=${1:-boot}
shift || true
case "$cmd" in
fetch) fetch; echo "$cache" ;;
build) build "$@" ;;
boot | boot-disk | boot-display)
    out=$cache/guest
    build "$out"
    args=(run --bios "$fw_jump" --kernel "$cache/Image" --initrd "$out/initramfs.cpio.gz" -m 512M)
    if [[ $cmd == boot-disk ]]; then
        cp "$out/root.ext4" "$out/disk.ext4"
        args+=(--drive "$out/disk.ext4" --append "console=ttyS0 root=/dev/vda panic=1")
    elif [[ $cmd == boot-display ]]; then
        args+=(--device bochs-display --append "console=ttyS0 panic=1 display")
    else
        args+=(--append "console=ttyS0 panic=1")
    fi
    ferrite "${args[@]}" "$@"
    ;;
bench)
    # Wall time from start to the shell prompt, Ferrite and QEMU TCG in
    # alternating runs on the same kernel and initramfs; Ferrite's count of
    # retired instructions. SMP=N for N harts.
    runs=${1:-3}
    smp=${SMP:-1}
    out=$cache/guest
    build "$out"
    bin=${FERRITE:-}
    if [[ -z $bin ]]; then
        cargo build --quiet --release --manifest-path "$root/Cargo.toml" -p ferrite-cli
        bin=$root/target/release/ferrite
    fi
    command -v qemu-system-riscv64 >/dev/null || die "qemu-system-riscv64 (qemu-system-misc) is needed"
    boot=(-bios "$fw_jump" -kernel "$cache/Image" -initrd "$out/initramfs.cpio.gz" -m 512M -smp "$smp")
    now() { date +%s.%N; }
    for ((i = 1; i <= runs; i++)); do
        start=$(now)
        "$bin" run "${boot[@]}" -append "console=ttyS0 panic=1" --stop-on-output '~ # ' \
            --serial "file:$out/ferrite.log" --stats </dev/null 2>"$out/ferrite.stats"
        f=$(echo "$(now) - $start" | bc)
        insns=$(awk '/retired instructions/ { print $3 }' "$out/ferrite.stats")
        rm -f "$out/qemu.log"
        start=$(now)
        qemu-system-riscv64 -M virt "${boot[@]}" -append "console=ttyS0 panic=1" -display none \
            -monitor none -serial "file:$out/qemu.log" </dev/null &
        qemu=$!
        until grep -qF '~ # ' "$out/qemu.log" 2>/dev/null; do
            kill -0 "$qemu" 2>/dev/null || die "QEMU ended before the prompt"
            sleep 0.01
        done
        q=$(echo "$(now) - $start" | bc)
        kill "$qemu"
        wait "$qemu" 2>/dev/null || true
        printf 'run %d: ferrite %.2f s (%s instructions), qemu %.2f s, ratio %.2f\n' \
            "$i" "$f" "$insns" "$q" "$(echo "$f / $q" | bc -l)"
    done
    ;;
*) die "unknown command $cmd (fetch, build, boot, boot-disk, boot-display, bench)" ;;
esac
