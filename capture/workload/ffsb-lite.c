/*
 * ffsb-lite: an FFSB-like workload that logs every I/O it does (the ground truth of a capture).
 *
 * Phase "create": write NFILES files of FILE_BYTES each, sequentially in 1 MiB writes, fsync each.
 * Phase "run":    OPS random reads/writes of IO_BYTES at IO_BYTES-aligned offsets in a random file
 *                 (uniform), reads with probability READ_FRACTION; buffered, or O_DIRECT with -D.
 *                 Ends with an fsync of every file.
 *
 * Log format "ffsb-lite-v1" (written to LOG at exit; held in memory meanwhile so the log itself
 * does not add I/O during the run):
 *   # ffsb-lite v1
 *   # params dir=... files=... file_bytes=... io_bytes=... ops=... read_fraction=... seed=... direct=0|1 ...
 *   # clocks start realtime_ns=... monotonic_ns=...
 *   #fields seq phase op file offset size ret start_ns end_ns
 *   0	create	write	/mnt/data/f000	0	1048576	1048576	5012345678	5012399999
 *   ...
 *   # clocks end realtime_ns=... monotonic_ns=...
 * Tab-separated; start_ns/end_ns are CLOCK_MONOTONIC around the system call; ret is the return
 * value (-errno on failure). op is write, read, fsync or drop_caches.
 *
 * With -m PATH (the tracefs trace_marker; default: $IOLINEAGE_TRACE_MARKER, which
 * capture/guest-capture.sh sets to its instance's trace_marker), it writes "iolineage-workload begin|create|run|end
 * realtime_ns=R monotonic_ns=M" marks, so the block trace carries the phases on its own clock.
 *
 * ffsb-lite -C prints "realtime_ns=R monotonic_ns=M" (both clocks read back to back) and exits.
 *
 * Build: gcc -O2 -static -o ffsb-lite ffsb-lite.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: small, seeded, reproducible across libcs. */
static uint64_t rng_state;
static uint64_t rng_next(void) {
  uint64_t x = rng_state;
  x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
  rng_state = x;
  return x * 0x2545F4914F6CDD1Dull;
}

static FILE *logf_;
static char *logbuf;
static size_t loglen;
static uint64_t seq;
static int marker_fd = -1;

static void mark(const char *what) {
  if (marker_fd < 0) return;
  char line[200];
  int n = snprintf(line, sizeof line, "iolineage-workload %s realtime_ns=%llu monotonic_ns=%llu\n", what,
                   (unsigned long long)now_ns(CLOCK_REALTIME), (unsigned long long)now_ns(CLOCK_MONOTONIC));
  if (write(marker_fd, line, (size_t)n) < 0) { /* a lost mark is not fatal */ }
}

static void log_io(const char *phase, const char *op, const char *file, uint64_t off, uint64_t size,
                   long long ret, uint64_t t0, uint64_t t1) {
  fprintf(logf_, "%llu\t%s\t%s\t%s\t%llu\t%llu\t%lld\t%llu\t%llu\n", (unsigned long long)seq++, phase, op, file,
          (unsigned long long)off, (unsigned long long)size, ret, (unsigned long long)t0, (unsigned long long)t1);
}

static void usage(void) {
  fprintf(stderr,
          "usage: ffsb-lite -d DIR -n NFILES -s FILE_BYTES -l LOG [-b IO_BYTES=4096] [-o OPS=10000]\n"
          "                 [-r READ_FRACTION=0.5] [-S SEED=1] [-D] [-t SECONDS=0] [-c] [-m TRACE_MARKER] [-k]\n"
          "  -D O_DIRECT in the random phase   -c drop the page cache after create (needs root)\n"
          "  -k keep existing files (skip create)   -C print both clocks and exit\n");
  exit(2);
}

int main(int argc, char **argv) {
  const char *dir = NULL, *logpath = NULL, *marker = NULL;
  long nfiles = 0, ops = 10000, iob = 4096;
  unsigned long long fbytes = 0, seed = 1;
  double rfrac = 0.5, secs = 0;
  int direct = 0, drop = 0, keep = 0, c;
  while ((c = getopt(argc, argv, "d:n:s:b:o:r:S:Dt:cl:m:kC")) != -1) {
    switch (c) {
      case 'C':
        /* both clocks back to back, for capture scripts (busybox date has no %N) */
        printf("realtime_ns=%llu monotonic_ns=%llu\n", (unsigned long long)now_ns(CLOCK_REALTIME),
               (unsigned long long)now_ns(CLOCK_MONOTONIC));
        return 0;
      case 'd': dir = optarg; break;
      case 'n': nfiles = atol(optarg); break;
      case 's': fbytes = strtoull(optarg, NULL, 0); break;
      case 'b': iob = atol(optarg); break;
      case 'o': ops = atol(optarg); break;
      case 'r': rfrac = atof(optarg); break;
      case 'S': seed = strtoull(optarg, NULL, 0); break;
      case 'D': direct = 1; break;
      case 't': secs = atof(optarg); break;
      case 'c': drop = 1; break;
      case 'l': logpath = optarg; break;
      case 'm': marker = optarg; break;
      case 'k': keep = 1; break;
      default: usage();
    }
  }
  if (!dir || !logpath || nfiles <= 0 || fbytes < (unsigned long long)iob || iob <= 0 || iob % 512) usage();
  rng_state = seed ? seed * 0x9E3779B97F4A7C15ull : 0x9E3779B97F4A7C15ull;
  logf_ = open_memstream(&logbuf, &loglen);
  if (!logf_) { perror("open_memstream"); return 1; }
  if (!marker) marker = getenv("IOLINEAGE_TRACE_MARKER");
  if (marker && *marker) marker_fd = open(marker, O_WRONLY);

  fprintf(logf_, "# ffsb-lite v1\n");
  fprintf(logf_, "# params dir=%s files=%ld file_bytes=%llu io_bytes=%ld ops=%ld read_fraction=%g seed=%llu direct=%d duration_s=%g drop_caches=%d\n",
          dir, nfiles, fbytes, iob, ops, rfrac, seed, direct, secs, drop);
  fprintf(logf_, "# clocks start realtime_ns=%llu monotonic_ns=%llu\n", (unsigned long long)now_ns(CLOCK_REALTIME),
          (unsigned long long)now_ns(CLOCK_MONOTONIC));
  fprintf(logf_, "#fields seq phase op file offset size ret start_ns end_ns\n");
  mark("begin");

  const size_t chunk = 1 << 20;
  size_t bufsz = chunk > (size_t)iob ? chunk : (size_t)iob;
  unsigned char *buf;
  if (posix_memalign((void **)&buf, 4096, bufsz)) { perror("posix_memalign"); return 1; }
  for (size_t i = 0; i < bufsz; i++) buf[i] = (unsigned char)(rng_next() >> 56);

  char **names = calloc((size_t)nfiles, sizeof *names);
  for (long f = 0; f < nfiles; f++) {
    if (asprintf(&names[f], "%s/f%03ld", dir, f) < 0) return 1;
  }

  mark("create");
  for (long f = 0; f < nfiles; f++) {
    if (keep && access(names[f], F_OK) == 0) continue;
    int fd = open(names[f], O_CREAT | O_TRUNC | O_WRONLY, 0644);
    if (fd < 0) { perror(names[f]); return 1; }
    for (unsigned long long off = 0; off < fbytes; off += chunk) {
      size_t n = fbytes - off < chunk ? (size_t)(fbytes - off) : chunk;
      uint64_t t0 = now_ns(CLOCK_MONOTONIC);
      ssize_t r = pwrite(fd, buf, n, (off_t)off);
      uint64_t t1 = now_ns(CLOCK_MONOTONIC);
      log_io("create", "write", names[f], off, n, r < 0 ? -errno : r, t0, t1);
      if (r != (ssize_t)n) { perror("pwrite"); return 1; }
    }
    uint64_t t0 = now_ns(CLOCK_MONOTONIC);
    int r = fsync(fd);
    log_io("create", "fsync", names[f], 0, 0, r < 0 ? -errno : r, t0, now_ns(CLOCK_MONOTONIC));
    close(fd);
  }
  sync();
  if (drop) {
    int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
    uint64_t t0 = now_ns(CLOCK_MONOTONIC);
    ssize_t r = fd < 0 ? -1 : write(fd, "3\n", 2);
    log_io("create", "drop_caches", "/proc/sys/vm/drop_caches", 0, 0, r < 0 ? -errno : r, t0, now_ns(CLOCK_MONOTONIC));
    if (fd >= 0) close(fd);
  }

  mark("run");
  int *fds = calloc((size_t)nfiles, sizeof *fds);
  for (long f = 0; f < nfiles; f++) {
    fds[f] = open(names[f], O_RDWR | (direct ? O_DIRECT : 0));
    if (fds[f] < 0) { perror(names[f]); return 1; }
  }
  uint64_t blocks = fbytes / (unsigned long long)iob;
  uint64_t start = now_ns(CLOCK_MONOTONIC), limit = secs > 0 ? (uint64_t)(secs * 1e9) : 0;
  for (long i = 0; ops == 0 || i < ops; i++) {
    long f = (long)(rng_next() % (uint64_t)nfiles);
    uint64_t off = (rng_next() % blocks) * (uint64_t)iob;
    int rd = (double)(rng_next() >> 11) / 9007199254740992.0 < rfrac;
    uint64_t t0 = now_ns(CLOCK_MONOTONIC);
    ssize_t r = rd ? pread(fds[f], buf, (size_t)iob, (off_t)off) : pwrite(fds[f], buf, (size_t)iob, (off_t)off);
    uint64_t t1 = now_ns(CLOCK_MONOTONIC);
    log_io("run", rd ? "read" : "write", names[f], off, (uint64_t)iob, r < 0 ? -errno : r, t0, t1);
    if (limit && t1 - start >= limit) break;
    if (ops == 0 && !limit) break;
  }
  for (long f = 0; f < nfiles; f++) {
    uint64_t t0 = now_ns(CLOCK_MONOTONIC);
    int r = fsync(fds[f]);
    log_io("run", "fsync", names[f], 0, 0, r < 0 ? -errno : r, t0, now_ns(CLOCK_MONOTONIC));
    close(fds[f]);
  }
  mark("end");
  fprintf(logf_, "# clocks end realtime_ns=%llu monotonic_ns=%llu\n", (unsigned long long)now_ns(CLOCK_REALTIME),
          (unsigned long long)now_ns(CLOCK_MONOTONIC));
  fclose(logf_);
  int lfd = open(logpath, O_CREAT | O_TRUNC | O_WRONLY, 0644);
  if (lfd < 0) { perror(logpath); return 1; }
  for (size_t done = 0; done < loglen;) {
    ssize_t w = write(lfd, logbuf + done, loglen - done);
    if (w <= 0) { perror("write log"); return 1; }
    done += (size_t)w;
  }
  fsync(lfd);
  close(lfd);
  return 0;
}
