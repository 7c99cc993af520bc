#!/bin/sh
# host-capture.sh: record the host side of an iolineage capture (run as root on the VM host).
#
#   host-capture.sh -o BUNDLE -i IMAGE [options] [-- COMMAND [ARGS...]]
#
# Records the block tracepoints of the physical disk under the guest's image file through a
# private tracefs instance, while COMMAND runs (e.g. the script that starts the guest workload),
# or for -t SECONDS, or until Ctrl-C. Then saves, into BUNDLE/host/:
#   block.trace        tracefs text (`trace` header, then the events read from trace_pipe)
#   fs.e2i.gz          e2image -r of the host file system holding IMAGE, gzip-compressed
#   host.env           key=value facts: kernel, disk MAJ:MIN and sizes, partition offset, clocks,
#                      lost events, image path/format/size, VM memory and cache mode if given
# and into BUNDLE/vm0/ (or -g ID): image.filefrag.txt (filefrag -v), image.map.json (qemu-img map).
# Copy the guest's capture directory (from guest-capture.sh) to BUNDLE/vm0/ as well, then run
# `iolineage lab --assemble BUNDLE` to write BUNDLE/manifest.json.
#
# Options:
#   -o BUNDLE      bundle directory (created)                                   (required)
#   -i IMAGE       the guest's disk image file                                  (required)
#   -d DISK        disk to trace (kernel name, e.g. nvme0n1); default: the disk under IMAGE
#   -g ID          guest id / sub-directory in the bundle                        (default vm0)
#   -f FORMAT      image format (raw|qcow2); default: from qemu-img info
#   -c MODE        QEMU cache mode of the image (writeback|none), recorded       (default writeback)
#   -m BYTES       VM memory, recorded
#   -b KB          ring-buffer size per CPU, KiB                                 (default 16384)
#   -t SECONDS     record for this long when no COMMAND is given
#   -i/-M          see above; marks "iolineage-mark host N" go to the host trace every second
#
# Safety: only reads the disk and the file system (e2image reads a mounted file system; its
# metadata may then miss the latest changes, which host.env says). Tracing is stopped and the
# instance removed on exit, error or Ctrl-C.
set -eu

OUT= IMAGE= DISK= GID=vm0 FORMAT= CACHE=writeback VMMEM= BUFKB=16384 SECS=
while getopts o:i:d:g:f:c:m:b:t: opt; do
  case $opt in
    o) OUT=$OPTARG ;; i) IMAGE=$OPTARG ;; d) DISK=$OPTARG ;; g) GID=$OPTARG ;; f) FORMAT=$OPTARG ;;
    c) CACHE=$OPTARG ;; m) VMMEM=$OPTARG ;; b) BUFKB=$OPTARG ;; t) SECS=$OPTARG ;;
    *) echo "usage: $0 -o BUNDLE -i IMAGE [-d DISK] [-g ID] [-f FORMAT] [-c MODE] [-m BYTES] [-b KB] [-t S] [-- COMMAND...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ "${1:-}" = "--" ] && shift
if [ -z "$OUT" ] || [ -z "$IMAGE" ]; then echo "host-capture: -o BUNDLE and -i IMAGE are required" >&2; exit 2; fi
if [ $# -eq 0 ] && [ -z "$SECS" ]; then echo "host-capture: give a COMMAND or -t SECONDS" >&2; exit 2; fi
[ "$(id -u)" = 0 ] || { echo "host-capture: must run as root (tracefs)" >&2; exit 1; }
[ -f "$IMAGE" ] || { echo "host-capture: image $IMAGE is not a file" >&2; exit 1; }
for t in findmnt e2image filefrag; do
  command -v $t >/dev/null 2>&1 || { echo "host-capture: needs $t (util-linux, e2fsprogs)" >&2; exit 1; }
done

# the file system holding IMAGE, its partition and whole disk (sysfs: /sys/class/block/PART/start)
FSDEV=$(findmnt -n -o SOURCE -T "$IMAGE")
FSTYPE=$(findmnt -n -o FSTYPE -T "$IMAGE")
MNT=$(findmnt -n -o TARGET -T "$IMAGE")
PART=$(basename "$(readlink -f "$FSDEV")")
case "$FSTYPE" in ext2|ext3|ext4) ;; *) echo "host-capture: $IMAGE is on $FSTYPE; only ext2/3/4 metadata can be saved" >&2 ;; esac
FSOFF=0
if [ -z "$DISK" ]; then
  if [ -e "/sys/class/block/$PART/partition" ]; then
    DISK=$(basename "$(readlink -f "/sys/class/block/$PART/..")")
    FSOFF=$(( $(cat "/sys/class/block/$PART/start") * 512 ))
  else
    DISK=$PART
  fi
fi
[ -e "/sys/block/$DISK/dev" ] || { echo "host-capture: no block device $DISK in /sys/block (use -d)" >&2; exit 1; }
[ -n "$FORMAT" ] || FORMAT=$(qemu-img info "$IMAGE" 2>/dev/null | sed -n 's/^file format: //p')
[ -n "$FORMAT" ] || FORMAT=raw

T=
for d in /sys/kernel/tracing /sys/kernel/debug/tracing; do [ -e "$d/instances" ] && { T=$d; break; }; done
if [ -z "$T" ]; then
  mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || true
  [ -e /sys/kernel/tracing/instances ] && T=/sys/kernel/tracing
fi
[ -n "$T" ] || { echo "host-capture: tracefs not available" >&2; exit 1; }

H="$OUT/host" G="$OUT/$GID"
mkdir -p "$H" "$G"
I="$T/instances/iolineage-host-$$"
EVENTS="block_bio_queue block_bio_backmerge block_bio_frontmerge block_bio_remap block_split block_getrq block_rq_insert block_rq_issue block_rq_merge block_rq_complete block_rq_requeue"
READER= MARKER=
cleanup() {
  trap - EXIT INT TERM HUP
  [ -d "$I" ] || return 0
  echo 0 > "$I/tracing_on" 2>/dev/null || true
  [ -n "$MARKER" ] && kill "$MARKER" 2>/dev/null || true
  [ -n "$READER" ] && kill "$READER" 2>/dev/null || true
  [ -n "$MARKER" ] && wait "$MARKER" 2>/dev/null || true
  [ -n "$READER" ] && wait "$READER" 2>/dev/null || true
  for e in $EVENTS; do echo 0 > "$I/events/block/$e/enable" 2>/dev/null || true; done
  rmdir "$I" 2>/dev/null || echo "host-capture: could not remove $I" >&2
}
trap cleanup EXIT
STOP=0
trap 'STOP=1' INT TERM HUP

clocks() {
  # CLOCK_REALTIME and CLOCK_MONOTONIC back to back (GNU date has %N; /proc/uptime is not
  # CLOCK_MONOTONIC but CLOCK_BOOTTIME, so the helper is better when present)
  if [ -n "${IOLINEAGE_CLOCKS:-}" ]; then "$IOLINEAGE_CLOCKS" -C; else
    echo "realtime_ns=$(date +%s%N) monotonic_ns=$(awk '{printf "%d", $1 * 1e9}' /proc/uptime)"
  fi
}
DEV=$(cat "/sys/block/$DISK/dev")
KDEV=$(( (${DEV%:*} << 20) | ${DEV#*:} ))
mkdir "$I"
echo 0 > "$I/tracing_on"
CLOCK=mono
echo mono > "$I/trace_clock" 2>/dev/null || CLOCK=$(sed 's/.*\[\(.*\)\].*/\1/' "$I/trace_clock")
echo "$BUFKB" > "$I/buffer_size_kb"
for e in $EVENTS; do
  [ -d "$I/events/block/$e" ] || continue
  echo "dev == $KDEV" > "$I/events/block/$e/filter"
  echo 1 > "$I/events/block/$e/enable"
done
cat "$I/trace" > "$H/block.trace"
cat "$I/trace_pipe" >> "$H/block.trace" &
READER=$!
echo 1 > "$I/tracing_on"
START=$(clocks)
( n=0; while :; do echo "iolineage-mark host $n realtime_ns=$(date +%s%N)" > "$I/trace_marker"; n=$((n + 1)); sleep 1; done ) &
MARKER=$!

STATUS=0
if [ $# -gt 0 ]; then
  set +e; "$@"; STATUS=$?; set -e
else
  end=$(( $(date +%s) + SECS ))
  while [ "$STOP" = 0 ] && [ "$(date +%s)" -lt "$end" ]; do sleep 1; done
fi
sync
kill "$MARKER" 2>/dev/null || true; wait "$MARKER" 2>/dev/null || true; MARKER=
END=$(clocks)
echo 0 > "$I/tracing_on"
sleep 1
kill "$READER" 2>/dev/null || true; wait "$READER" 2>/dev/null || true; READER=
grep -v '^#' "$I/trace" >> "$H/block.trace" || true
LOST=0
for s in "$I"/per_cpu/cpu*/stats; do
  o=$(sed -n 's/^overrun: *//p' "$s"); d=$(sed -n 's/^dropped events: *//p' "$s")
  LOST=$((LOST + ${o:-0} + ${d:-0}))
done
L=$(grep -o 'LOST [0-9]* EVENTS' "$H/block.trace" | awk '{s += $2} END {print s + 0}')
LOST=$((LOST + L))
cleanup

# image extents on the host fs, guest-offset map, host fs metadata (after tracing: these read the disk)
REL=${IMAGE#"$MNT"}; REL=/${REL#/}
( cd "$MNT" && filefrag -v ".$REL" ) > "$G/image.filefrag.txt"
qemu-img map --output=json -f "$FORMAT" "$IMAGE" > "$G/image.map.json" 2>/dev/null || rm -f "$G/image.map.json"
if [ ! -s "$G/fs.e2i.gz" ] && [ "$FORMAT" = raw ] && dumpe2fs -h "$IMAGE" >/dev/null 2>&1; then
  # the guest fs sits on the whole raw image: save its metadata from here (reads the image only)
  e2image -r "$IMAGE" - | gzip -6 > "$G/fs.e2i.gz"
fi
e2image -r "$FSDEV" - 2>/dev/null | gzip -6 > "$H/fs.e2i.gz" || echo "host-capture: e2image failed; host fs metadata missing" >&2
BS=$(dumpe2fs -h "$FSDEV" 2>/dev/null | sed -n 's/^Block size: *//p')
BC=$(dumpe2fs -h "$FSDEV" 2>/dev/null | sed -n 's/^Block count: *//p')

{
  echo "instance=$(basename "$I")"
  echo "kernel=$(uname -r)"
  echo "disk=$DISK"
  echo "dev=$DEV"
  echo "logical_block_size=$(cat /sys/block/$DISK/queue/logical_block_size)"
  echo "physical_block_size=$(cat /sys/block/$DISK/queue/physical_block_size)"
  echo "size_bytes=$(( $(cat /sys/block/$DISK/size) * 512 ))"
  echo "fs_offset_bytes=$FSOFF"
  echo "fs_type=$FSTYPE"
  echo "fs_block_size=${BS:-0}"
  echo "fs_size_bytes=$(( ${BC:-0} * ${BS:-0} ))"
  echo "fs_mounted=1"
  echo "trace_clock=$CLOCK"
  echo "buffer_size_kb=$BUFKB"
  echo "events=$(for e in $EVENTS; do printf 'block/%s,' "$e"; done | sed 's/,$//')"
  echo "filter=dev == $KDEV"
  echo "lost_events=$LOST"
  echo "lines=$(grep -vc '^#' "$H/block.trace")"
  echo "clocks_start_$(echo "$START" | cut -d' ' -f1)"
  echo "clocks_start_$(echo "$START" | cut -d' ' -f2)"
  echo "clocks_end_$(echo "$END" | cut -d' ' -f1)"
  echo "clocks_end_$(echo "$END" | cut -d' ' -f2)"
  echo "guest=$GID"
  echo "image_path_in_fs=$REL"
  echo "image_format=$FORMAT"
  echo "image_file_bytes=$(stat -c %s "$IMAGE")"
  echo "image_virtual_bytes=$(qemu-img info "$IMAGE" 2>/dev/null | sed -n 's/^virtual size: .*(\([0-9]*\) bytes).*/\1/p')"
  echo "host_cache=$CACHE"
  echo "vm_mem_bytes=$VMMEM"
  echo "exit_status=$STATUS"
} > "$H/host.env"
gzip -f "$H/block.trace"
echo "host-capture: done (lost events $LOST). Next: copy the guest's capture dir into $G, then: iolineage lab --assemble $OUT" >&2
exit "$STATUS"
