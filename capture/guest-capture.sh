#!/bin/sh
# guest-capture.sh: record the guest side of an iolineage capture (run as root inside the guest).
#
#   guest-capture.sh -o OUTDIR -d DISK [options] -- COMMAND [ARGS...]
#
# Runs COMMAND under strace (-f -ttt -T -y) while the block tracepoints of DISK (e.g. vda) are
# recorded through a private tracefs instance, and writes into OUTDIR:
#   block.trace     tracefs text (`trace` header, then the events read from trace_pipe)
#   app.strace      strace output of COMMAND and its children
#   guest.env       key=value facts: kernel, device MAJ:MIN and sizes, clocks, lost events, options
#   fs.e2i.gz       (with -e) `e2image -r` of the file system on DISK, gzip-compressed
# OUTDIR should be on another disk than DISK (its writes would otherwise be in the trace), and
# not in RAM when memory is what you study.
#
# Options:
#   -o OUTDIR      output directory (created)                       (required)
#   -d DISK        disk to trace: kernel name (vda, sdb, loop3)      (required)
#   -b KB          ring-buffer size per CPU, KiB                      (default 4096)
#   -c CLOCK       trace_clock of the instance                        (default mono = CLOCK_MONOTONIC)
#   -i SECONDS     interval of alignment marks                        (default 1)
#   -M FILE        also echo "@@iolineage-mark N" to FILE (e.g. a serial port the host watches)
#   -k HELPER      program printing "realtime_ns=R monotonic_ns=M" (ffsb-lite -C); else coarse clocks
#   -e             save the file system metadata of DISK with e2image after COMMAND ends
#   -n             do not use strace
#
# Safety: only reads DISK; tracing is stopped and the instance removed on exit, error or Ctrl-C.
# Works with busybox sh, dash and bash.
set -eu

OUT= DISK= BUFKB=4096 CLOCK=mono INTERVAL=1 MARKTTY= HELPER= E2I=0 STRACE=1 FSDEV=
while getopts o:d:b:c:i:M:k:en opt; do
  case $opt in
    o) OUT=$OPTARG ;;
    d) DISK=$OPTARG ;;
    b) BUFKB=$OPTARG ;;
    c) CLOCK=$OPTARG ;;
    i) INTERVAL=$OPTARG ;;
    M) MARKTTY=$OPTARG ;;
    k) HELPER=$OPTARG ;;
    e) E2I=1 ;;
    n) STRACE=0 ;;
    *) echo "usage: $0 -o OUTDIR -d DISK [-b KB] [-c CLOCK] [-i S] [-M FILE] [-k HELPER] [-e] [-n] -- COMMAND..." >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ "${1:-}" = "--" ] && shift
if [ -z "$OUT" ] || [ -z "$DISK" ] || [ $# -eq 0 ]; then
  echo "guest-capture: -o OUTDIR, -d DISK and a COMMAND are required" >&2; exit 2
fi
[ "$(id -u)" = 0 ] || { echo "guest-capture: must run as root (tracefs)" >&2; exit 1; }
[ -e "/sys/block/$DISK/dev" ] || { echo "guest-capture: no block device $DISK in /sys/block" >&2; exit 1; }
mkdir -p "$OUT"

# tracefs: already mounted, or mount it (Documentation/trace/ftrace.rst, "The File System")
T=
for d in /sys/kernel/tracing /sys/kernel/debug/tracing; do
  [ -e "$d/instances" ] && { T=$d; break; }
done
if [ -z "$T" ]; then
  mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || true
  [ -e /sys/kernel/tracing/instances ] && T=/sys/kernel/tracing
fi
[ -n "$T" ] || { echo "guest-capture: tracefs not available" >&2; exit 1; }

I="$T/instances/iolineage-guest-$$"
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
  rmdir "$I" 2>/dev/null || echo "guest-capture: could not remove $I" >&2
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM HUP

clocks() { # prints "realtime_ns=R monotonic_ns=M"
  if [ -n "$HELPER" ]; then "$HELPER" -C; else
    # coarse fallback: seconds from date, centiseconds from /proc/uptime (not CLOCK_MONOTONIC exactly)
    up=$(cut -d' ' -f1 /proc/uptime); echo "realtime_ns=$(date +%s)000000000 monotonic_ns=$(echo "$up" | tr -d .)0000000"
  fi
}
sysblk() { cat "/sys/block/$DISK/$1" 2>/dev/null || echo 0; }

DEV=$(cat "/sys/block/$DISK/dev")
MAJ=${DEV%:*} MIN=${DEV#*:}
KDEV=$(( (MAJ << 20) | MIN ))   # dev_t as the block tracepoints store it (MINORBITS = 20)

mkdir "$I"
echo 0 > "$I/tracing_on"
echo "$CLOCK" > "$I/trace_clock" 2>/dev/null || { CLOCK=$(sed 's/.*\[\(.*\)\].*/\1/' "$I/trace_clock"); }
echo "$BUFKB" > "$I/buffer_size_kb"
echo "dev == $KDEV" > "$I/events/block/filter" 2>/dev/null || true
for e in $EVENTS; do
  [ -d "$I/events/block/$e" ] || continue
  echo "dev == $KDEV" > "$I/events/block/$e/filter" 2>/dev/null || true
  echo 1 > "$I/events/block/$e/enable"
done
# header of the `trace` file, then everything read from trace_pipe
cat "$I/trace" > "$OUT/block.trace"
cat "$I/trace_pipe" >> "$OUT/block.trace" &
READER=$!
echo 1 > "$I/tracing_on"
START=$(clocks)

(
  n=0
  while :; do
    echo "iolineage-mark $n" > "$I/trace_marker"
    [ -n "$MARKTTY" ] && echo "@@iolineage-mark $n" > "$MARKTTY"
    n=$((n + 1))
    sleep "$INTERVAL"
  done
) &
MARKER=$!
# the marks pair clocks: they must not wait behind the workload for the CPU
renice -n -20 -p "$MARKER" >/dev/null 2>&1 || true

export IOLINEAGE_TRACE_MARKER="$I/trace_marker"   # ffsb-lite writes its phase marks there
set +e
if [ "$STRACE" = 1 ]; then
  strace -f -ttt -T -y -o "$OUT/app.strace" "$@"
else
  "$@"
fi
STATUS=$?
set -e
sync
sleep 1
kill "$MARKER" 2>/dev/null || true; wait "$MARKER" 2>/dev/null || true; MARKER=
echo "iolineage-capture end" > "$I/trace_marker"
END=$(clocks)
echo 0 > "$I/tracing_on"
sleep 1
kill "$READER" 2>/dev/null || true; wait "$READER" 2>/dev/null || true; READER=
# events still in the buffer that the reader had not consumed
grep -v '^#' "$I/trace" >> "$OUT/block.trace" || true
LOST=0
for s in "$I"/per_cpu/cpu*/stats; do
  o=$(sed -n 's/^overrun: *//p' "$s"); d=$(sed -n 's/^dropped events: *//p' "$s")
  LOST=$((LOST + ${o:-0} + ${d:-0}))
done
L=$(grep -o 'LOST [0-9]* EVENTS' "$OUT/block.trace" | awk '{s += $2} END {print s + 0}')
LOST=$((LOST + L))

{
  echo "instance=$(basename "$I")"
  echo "kernel=$(uname -r)"
  echo "disk=$DISK"
  echo "dev=$DEV"
  echo "logical_block_size=$(sysblk queue/logical_block_size)"
  echo "physical_block_size=$(sysblk queue/physical_block_size)"
  echo "size_bytes=$(( $(sysblk size) * 512 ))"
  echo "mem_bytes=$(( $(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo) * 1024 ))"
  echo "trace_clock=$CLOCK"
  echo "buffer_size_kb=$BUFKB"
  echo "events=$(for e in $EVENTS; do printf 'block/%s,' "$e"; done | sed 's/,$//')"
  echo "filter=dev == $KDEV"
  echo "lost_events=$LOST"
  echo "lines=$(grep -vc '^#' "$OUT/block.trace")"
  echo "clocks_start_$(echo "$START" | cut -d' ' -f1)"
  echo "clocks_start_$(echo "$START" | cut -d' ' -f2)"
  echo "clocks_end_$(echo "$END" | cut -d' ' -f1)"
  echo "clocks_end_$(echo "$END" | cut -d' ' -f2)"
  # partitions of the disk as the kernel sees them (sysfs: start and size in 512-byte sectors)
  for p in /sys/block/"$DISK"/"$DISK"*; do
    [ -e "$p/start" ] || continue
    echo "partition_$(basename "$p")=$(cat "$p/start") $(cat "$p/size")"
  done
  # the file system on the disk or on one of its partitions (vda1, nvme0n1p1)
  FSM=$(awk -v d="/dev/$DISK" '$1 == d || $1 ~ ("^" d "p?[0-9]+$") {print $1, $2, $3; exit}' /proc/mounts)
  if [ -n "$FSM" ]; then
    FSDEV=$(basename "${FSM%% *}")
    echo "fs_device=$FSDEV"
    FSM=${FSM#* }
    echo "fs_mount=${FSM% *}"
    echo "fs_type=${FSM#* }"
    echo "fs_block_size=$(stat -f -c %S "${FSM% *}" 2>/dev/null || echo 4096)"
  fi
  [ "$STRACE" = 1 ] && echo "strace_options=-f -ttt -T -y"
  echo "command=$*"
  echo "exit_status=$STATUS"
} > "$OUT/guest.env"

if [ "$E2I" = 1 ]; then
  if command -v e2image >/dev/null 2>&1; then
    e2image -r "/dev/${FSDEV:-$DISK}" - | gzip -1 > "$OUT/fs.e2i.gz"
  else
    echo "guest-capture: e2image not found; fs metadata not saved (save it from the host)" >&2
  fi
fi
cleanup
echo "guest-capture: done, exit status $STATUS, lost events $LOST" >&2
exit "$STATUS"
