/*
 * rawring.c - "machine limit" io_uring benchmark using raw syscalls only.
 *
 * Drives io_uring directly through io_uring_setup/io_uring_enter/
 * io_uring_register (syscalls 425/426/427) and mmap()ed SQ/CQ rings and SQE
 * array.  No liburing.  It exists so that the Python `uring` library can be
 * compared against what the kernel can do from C on the same machine.
 *
 * Build:   cc -O2 -o rawring rawring.c
 *
 * Usage:
 *   rawring nop    [--batch 256] [--seconds 2]
 *   rawring read   --file PATH [--qd 64] [--bs 4096] [--seconds 2] [--fixed]
 *                  [--engine uring|fixed|sqpoll|aio|sync]
 *   rawring direct --file PATH [--qd 64] [--bs 4096] [--seconds 2] [--fixed]
 *                  [--engine uring|fixed|sqpoll|aio|sync]
 *
 * Output: one line of JSON on stdout, e.g.
 *   {"workload": "nop", "ops": N, "seconds": T, "ops_per_sec": R, "batch": 256}
 *   {"workload": "read", "ops": N, "seconds": T, "ops_per_sec": R,
 *    "qd": 64, "bs": 4096, "fixed": false}
 * Any failure: message on stderr, non-zero exit status.
 *
 * Workloads
 *   nop:    repeat { queue `batch` NOP SQEs; one io_uring_enter(to_submit=
 *           batch, min_complete=batch, GETEVENTS); reap the batch CQEs }.
 *   read:   buffered reads of `bs` bytes at random 4 KiB-aligned offsets,
 *           `qd` requests kept in flight.  Each iteration reaps every
 *           available CQE, checks res == bs, refills the reaped slots and
 *           submits the refills in the same io_uring_enter that waits for
 *           the next completion.  --fixed registers the file and the qd
 *           buffers and uses READ_FIXED + IOSQE_FIXED_FILE.
 *   direct: same as read, but the file is opened O_DIRECT (buffers are
 *           4096-aligned in all modes).
 *
 * Engines (the rows of the seed's table, `uring bench seed`), same reads:
 *   uring   io_uring, submit + wait in one io_uring_enter (the default)
 *   fixed   io_uring with registered file and buffers (= --fixed)
 *   sqpoll  io_uring with IORING_SETUP_SQPOLL: the kernel thread submits;
 *           io_uring_enter only to wait when no CQE is ready (or to wake it)
 *   aio     Linux AIO: io_setup/io_submit/io_getevents as raw syscalls
 *   sync    pread() one at a time (qd is ignored and reported as 1)
 */
#define BENCH_PROG "rawring"
#include "ring.h"

#include <sys/ioctl.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <linux/aio_abi.h>
#include <linux/fs.h>
#include <linux/magic.h>

/* ------------------------------------------------------------------ */
/* small helpers                                                       */

static int ioctl_blk_size(int fd, uint64_t *size)
{
	return ioctl(fd, BLKGETSIZE64, size);
}

static double now_sec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* xorshift64* PRNG, deterministic seed. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static inline uint64_t rng_next(void)
{
	uint64_t x = rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* ------------------------------------------------------------------ */
/* options                                                             */

struct opts {
	const char *workload;
	const char *file;
	unsigned long batch;
	unsigned long qd;
	unsigned long bs;
	double seconds;
	int fixed;
	const char *engine;
};

static void usage(void)
{
	fprintf(stderr,
		"usage: %s nop [--batch N] [--seconds S]\n"
		"       %s read --file PATH [--qd N] [--bs N] [--seconds S] [--fixed]\n"
		"            [--engine uring|fixed|sqpoll|aio|sync]\n"
		"       %s direct --file PATH [--qd N] [--bs N] [--seconds S] [--fixed]\n"
		"            [--engine uring|fixed|sqpoll|aio|sync]\n",
		prog, prog, prog);
	exit(2);
}

static unsigned long parse_ulong(const char *opt, const char *s)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-')
		die("invalid value for %s: '%s'", opt, s);
	return v;
}

static double parse_double(const char *opt, const char *s)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0.0))
		die("invalid value for %s: '%s' (must be > 0)", opt, s);
	return v;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	o->workload = NULL;
	o->file = NULL;
	o->batch = 256;
	o->qd = 64;
	o->bs = 4096;
	o->seconds = 2.0;
	o->fixed = 0;
	o->engine = "uring";

	if (argc < 2)
		usage();
	o->workload = argv[1];
	if (strcmp(o->workload, "nop") && strcmp(o->workload, "read") &&
	    strcmp(o->workload, "direct")) {
		if (!strcmp(o->workload, "-h") || !strcmp(o->workload, "--help"))
			usage();
		die("unknown workload '%s' (expected nop, read or direct)",
		    o->workload);
	}

	for (int i = 2; i < argc; i++) {
		char *arg = argv[i];
		const char *val = NULL;
		char name[64];

		if (strncmp(arg, "--", 2))
			die("unexpected argument '%s'", arg);
		char *eq = strchr(arg, '=');
		if (eq) {
			size_t n = (size_t)(eq - arg);
			if (n >= sizeof(name))
				die("unknown option '%s'", arg);
			memcpy(name, arg, n);
			name[n] = '\0';
			val = eq + 1;
		} else {
			snprintf(name, sizeof(name), "%s", arg);
		}

		if (!strcmp(name, "--fixed")) {
			if (val)
				die("--fixed takes no value");
			o->fixed = 1;
			continue;
		}
		if (!strcmp(name, "--help") || !strcmp(name, "-h"))
			usage();
		if (!val) {
			if (i + 1 >= argc)
				die("option %s needs a value", name);
			val = argv[++i];
		}
		if (!strcmp(name, "--batch"))
			o->batch = parse_ulong(name, val);
		else if (!strcmp(name, "--qd"))
			o->qd = parse_ulong(name, val);
		else if (!strcmp(name, "--bs"))
			o->bs = parse_ulong(name, val);
		else if (!strcmp(name, "--seconds"))
			o->seconds = parse_double(name, val);
		else if (!strcmp(name, "--file"))
			o->file = val;
		else if (!strcmp(name, "--engine"))
			o->engine = val;
		else
			die("unknown option '%s'", name);
	}

	if (o->batch < 1 || o->batch > 32768)
		die("--batch must be in 1..32768");
	if (o->qd < 1 || o->qd > 32768)
		die("--qd must be in 1..32768");
	if (o->bs < 1 || o->bs > (1UL << 30))
		die("--bs must be in 1..%lu", 1UL << 30);
	if (!strcmp(o->engine, "fixed"))
		o->fixed = 1;
	else if (o->fixed && strcmp(o->engine, "uring"))
		die("--fixed is the fixed engine, not %s", o->engine);
	else if (o->fixed)
		o->engine = "fixed";
	else if (strcmp(o->engine, "uring") && strcmp(o->engine, "sqpoll") &&
		 strcmp(o->engine, "aio") && strcmp(o->engine, "sync"))
		die("unknown engine '%s' (expected uring, fixed, sqpoll, aio or sync)",
		    o->engine);
}

/* ------------------------------------------------------------------ */
/* NOP workload                                                        */

static void run_nop(const struct opts *o)
{
	struct ring r;
	unsigned batch = (unsigned)o->batch;
	uint64_t ops = 0;

	ring_init(&r, batch, 0);
	if (r.sq_entries < batch)
		die("ring has %u SQ entries, need %u", r.sq_entries, batch);

	double start = now_sec();
	double deadline = start + o->seconds;
	double t;

	for (;;) {
		for (unsigned i = 0; i < batch; i++) {
			struct io_uring_sqe *sqe = ring_get_sqe(&r);
			sqe->opcode = IORING_OP_NOP;
			sqe->user_data = i;
		}
		ring_flush_sq(&r);

		unsigned to_submit = batch;
		unsigned reaped = 0;
		while (reaped < batch) {
			unsigned want = batch - reaped;
			int ret = ring_enter(&r, to_submit, want,
					     IORING_ENTER_GETEVENTS);
			if (ret > 0)
				to_submit -= (unsigned)ret;

			unsigned head = *r.cq_khead;
			unsigned tail = __atomic_load_n(r.cq_ktail,
							__ATOMIC_ACQUIRE);
			for (; head != tail; head++) {
				struct io_uring_cqe *cqe =
					&r.cqes[head & r.cq_mask];
				if (cqe->res != 0)
					die("NOP completed with res=%d (%s)",
					    cqe->res, strerror(-cqe->res));
				reaped++;
			}
			__atomic_store_n(r.cq_khead, head, __ATOMIC_RELEASE);
		}
		ops += batch;

		t = now_sec();
		if (t >= deadline)
			break;
	}

	double elapsed = t - start;
	printf("{\"workload\": \"nop\", \"ops\": %llu, \"seconds\": %.6f, "
	       "\"ops_per_sec\": %.1f, \"batch\": %u}\n",
	       (unsigned long long)ops, elapsed, (double)ops / elapsed, batch);
	ring_exit(&r);
}

/* ------------------------------------------------------------------ */
/* read / direct workloads                                             */

struct readctx {
	struct ring r;
	int fd;			/* real fd */
	int sqe_fd;		/* fd or registered index 0 */
	int fixed;
	unsigned bs;
	char *bufs;		/* qd * bs bytes, 4096-aligned */
	uint64_t nslots;	/* number of valid 4 KiB-aligned offsets */
};

static inline void prep_read(struct readctx *c, unsigned slot)
{
	struct io_uring_sqe *sqe = ring_get_sqe(&c->r);
	uint64_t off = (rng_next() % c->nslots) * 4096ULL;

	sqe->opcode = c->fixed ? IORING_OP_READ_FIXED : IORING_OP_READ;
	sqe->flags = c->fixed ? IOSQE_FIXED_FILE : 0;
	sqe->fd = c->sqe_fd;
	sqe->off = off;
	sqe->addr = (uint64_t)(uintptr_t)(c->bufs + (size_t)slot * c->bs);
	sqe->len = c->bs;
	if (c->fixed)
		sqe->buf_index = (uint16_t)slot;
	sqe->user_data = slot;
}

static inline uint64_t next_offset(const struct readctx *c)
{
	return (rng_next() % c->nslots) * 4096ULL;
}

static void check_res(long res, unsigned bs, int direct, const char *what)
{
	if (res == (long)bs)
		return;
	if (res < 0)
		die("%s failed: %s%s", what, strerror((int)-res),
		    direct && res == -EINVAL ? " (O_DIRECT needs --bs to be a "
		    "multiple of the logical block size)" : "");
	die("short %s: res=%ld, expected %u", what, res, bs);
}

/* Synchronous pread(), one at a time: the seed's "sync read()" row. */
static uint64_t loop_sync(struct readctx *c, double seconds, int direct, double *elapsed)
{
	uint64_t ops = 0;
	double start = now_sec(), t;

	for (;;) {
		for (int i = 0; i < 64; i++) {	/* clock once per 64 reads */
			ssize_t n = pread(c->fd, c->bufs, c->bs, (off_t)next_offset(c));
			check_res(n < 0 ? -errno : n, c->bs, direct, "pread");
		}
		ops += 64;
		t = now_sec();
		if (t - start >= seconds)
			break;
	}
	*elapsed = t - start;
	return ops;
}

/* Linux AIO through raw syscalls (no libaio): `qd` iocbs kept in flight. */
static uint64_t loop_aio(struct readctx *c, unsigned qd, double seconds, int direct,
			 double *elapsed)
{
	aio_context_t ctx = 0;
	struct iocb *cbs = calloc(qd, sizeof(*cbs));
	struct iocb **ptrs = calloc(qd, sizeof(*ptrs));
	struct io_event *events = calloc(qd, sizeof(*events));
	uint64_t ops = 0;
	unsigned inflight = 0;
	int stopping = 0;
	double start, t;

	if (!cbs || !ptrs || !events)
		die("out of memory");
	if (syscall(SYS_io_setup, qd, &ctx) < 0)
		die("io_setup(%u): %s", qd, strerror(errno));
	for (unsigned i = 0; i < qd; i++) {
		cbs[i].aio_data = i;
		cbs[i].aio_lio_opcode = IOCB_CMD_PREAD;
		cbs[i].aio_fildes = (uint32_t)c->fd;
		cbs[i].aio_buf = (uint64_t)(uintptr_t)(c->bufs + (size_t)i * c->bs);
		cbs[i].aio_nbytes = c->bs;
		cbs[i].aio_offset = (int64_t)next_offset(c);
		ptrs[i] = &cbs[i];
	}
	start = t = now_sec();
	unsigned to_submit = qd;
	struct iocb **next = ptrs;
	for (;;) {
		while (to_submit) {
			long n = syscall(SYS_io_submit, ctx, (long)to_submit, next);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				die("io_submit: %s", n < 0 ? strerror(errno) : "nothing submitted");
			inflight += (unsigned)n;
			to_submit -= (unsigned)n;
			next += n;
		}
		if (!inflight)
			break;
		long got = syscall(SYS_io_getevents, ctx, 1L, (long)qd, events, NULL);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			die("io_getevents: %s", strerror(errno));
		}
		inflight -= (unsigned)got;
		next = ptrs;
		for (long i = 0; i < got; i++) {
			struct iocb *cb = &cbs[events[i].data];
			check_res((long)events[i].res, c->bs, direct, "aio read");
			if (stopping)
				continue;
			cb->aio_offset = (int64_t)next_offset(c);
			ptrs[to_submit++] = cb;
		}
		if (stopping)
			continue;
		ops += (uint64_t)got;
		t = now_sec();
		if (t - start >= seconds) {
			stopping = 1;	/* drain, uncounted */
			to_submit = 0;
		}
	}
	*elapsed = t - start;
	syscall(SYS_io_destroy, ctx);
	free(cbs);
	free(ptrs);
	free(events);
	return ops;
}

/* io_uring: `qd` reads in flight; with sqpoll the kernel thread submits. */
static uint64_t loop_uring(struct readctx *cp, unsigned qd, double seconds, int direct,
			   int sqpoll, double *elapsed)
{
	struct readctx c = *cp;

	ring_init(&c.r, qd, sqpoll ? IORING_SETUP_SQPOLL : 0);
	if (c.r.sq_entries < qd)
		die("ring has %u SQ entries, need %u", c.r.sq_entries, qd);

	c.sqe_fd = c.fd;
	if (c.fixed) {
		int fds[1] = { c.fd };
		if (sys_register(c.r.fd, IORING_REGISTER_FILES, fds, 1) < 0)
			die("IORING_REGISTER_FILES: %s", strerror(errno));
		c.sqe_fd = 0;

		struct iovec *iov = calloc(qd, sizeof(*iov));
		if (!iov)
			die("out of memory");
		for (unsigned i = 0; i < qd; i++) {
			iov[i].iov_base = c.bufs + (size_t)i * c.bs;
			iov[i].iov_len = c.bs;
		}
		if (sys_register(c.r.fd, IORING_REGISTER_BUFFERS, iov, qd) < 0)
			die("IORING_REGISTER_BUFFERS (%u x %u bytes): %s%s", qd,
			    c.bs, strerror(errno),
			    errno == ENOMEM ? " (check ulimit -l)" : "");
		free(iov);
	}

	uint64_t ops = 0;
	unsigned inflight = 0;	/* submitted to the kernel, not yet reaped */
	unsigned pending = 0;	/* in the SQ, not yet consumed by the kernel */
	double start = now_sec();
	double deadline = start + seconds;
	double t = start;
	int stopping = 0;

	for (unsigned i = 0; i < qd; i++)
		prep_read(&c, i);
	ring_flush_sq(&c.r);
	pending = qd;

	for (;;) {
		/* Submit refills (if any) and wait for >= 1 completion. */
		unsigned wait = (inflight + pending) ? 1 : 0;
		if (!wait)
			break;	/* only reached while draining */
		if (sqpoll) {
			/*
			 * The kernel thread takes the SQEs by itself; a
			 * syscall only to wait when no CQE is ready, or to
			 * wake a thread that went idle.
			 */
			inflight += pending;
			pending = 0;
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			unsigned fl = 0;
			if (__atomic_load_n(c.r.sq_kflags, __ATOMIC_RELAXED) &
			    IORING_SQ_NEED_WAKEUP)
				fl |= IORING_ENTER_SQ_WAKEUP;
			if (*c.r.cq_khead == __atomic_load_n(c.r.cq_ktail,
							     __ATOMIC_ACQUIRE))
				fl |= IORING_ENTER_GETEVENTS;
			if (fl)
				ring_enter(&c.r, 0, (fl & IORING_ENTER_GETEVENTS) ? 1 : 0, fl);
		} else {
			int ret = ring_enter(&c.r, pending, wait,
					     IORING_ENTER_GETEVENTS);
			if (ret > 0) {
				pending -= (unsigned)ret;
				inflight += (unsigned)ret;
			}
		}

		/* Reap everything that is available. */
		unsigned head = *c.r.cq_khead;
		unsigned tail = __atomic_load_n(c.r.cq_ktail, __ATOMIC_ACQUIRE);
		unsigned n = 0;
		for (; head != tail; head++) {
			struct io_uring_cqe *cqe = &c.r.cqes[head & c.r.cq_mask];
			unsigned slot = (unsigned)cqe->user_data;

			if (cqe->res != (int)c.bs) {
				if (cqe->res < 0)
					die("read (slot %u) failed: %s%s", slot,
					    strerror(-cqe->res),
					    direct && cqe->res == -EINVAL ?
					    " (O_DIRECT needs --bs to be a "
					    "multiple of the logical block "
					    "size)" : "");
				die("short read (slot %u): res=%d, expected %u",
				    slot, cqe->res, c.bs);
			}
			n++;
			if (!stopping)
				prep_read(&c, slot);
		}
		__atomic_store_n(c.r.cq_khead, head, __ATOMIC_RELEASE);
		inflight -= n;

		if (stopping)
			continue;
		ops += n;
		if (n) {
			ring_flush_sq(&c.r);
			pending += n;
		}

		t = now_sec();
		if (t >= deadline) {
			/*
			 * Stop the clock; then drain: the refills queued
			 * above are still submitted and waited for (so no
			 * I/O is left targeting our buffers) but not counted.
			 */
			stopping = 1;
		}
	}

	*elapsed = t - start;
	ring_exit(&c.r);
	return ops;
}

static void run_read(const struct opts *o, int direct)
{
	struct readctx c;
	unsigned qd = (unsigned)o->qd;
	struct stat st;

	memset(&c, 0, sizeof(c));
	if (!o->file)
		die("%s workload needs --file PATH", o->workload);
	if (o->fixed && qd > 65535)
		die("--fixed supports at most 65535 buffers");
	c.bs = (unsigned)o->bs;
	c.fixed = o->fixed;

	c.fd = open(o->file, O_RDONLY | (direct ? O_DIRECT : 0));
	if (c.fd < 0)
		die("open(%s%s): %s", o->file, direct ? ", O_DIRECT" : "",
		    strerror(errno));
	if (fstat(c.fd, &st) < 0)
		die("fstat(%s): %s", o->file, strerror(errno));

	if (direct) {
		/*
		 * tmpfs accepts O_DIRECT on recent kernels, but the "device"
		 * is RAM, so the figure is not a storage limit.
		 */
		struct statfs sfs;
		if (fstatfs(c.fd, &sfs) == 0 &&
		    (sfs.f_type == TMPFS_MAGIC || sfs.f_type == RAMFS_MAGIC))
			fprintf(stderr, "%s: warning: %s is on tmpfs/ramfs; "
				"O_DIRECT does not reach a storage device\n",
				prog, o->file);
	}

	uint64_t size = 0;
	if (S_ISREG(st.st_mode)) {
		size = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl_blk_size(c.fd, &size) < 0)
			die("BLKGETSIZE64(%s): %s", o->file, strerror(errno));
	} else {
		die("%s is not a regular file or block device", o->file);
	}
	if (size < c.bs)
		die("%s is too small (%llu bytes) for --bs %u", o->file,
		    (unsigned long long)size, c.bs);
	c.nslots = (size - c.bs) / 4096 + 1;

	size_t buflen = (size_t)qd * c.bs;
	void *mem;
	int err = posix_memalign(&mem, 4096, buflen);
	if (err)
		die("posix_memalign(%zu): %s", buflen, strerror(err));
	c.bufs = mem;
	memset(c.bufs, 0, buflen);	/* fault the pages in up front */

	double elapsed;
	uint64_t ops;
	if (!strcmp(o->engine, "sync")) {
		qd = 1;
		ops = loop_sync(&c, o->seconds, direct, &elapsed);
	} else if (!strcmp(o->engine, "aio")) {
		ops = loop_aio(&c, qd, o->seconds, direct, &elapsed);
	} else {
		ops = loop_uring(&c, qd, o->seconds, direct,
				 !strcmp(o->engine, "sqpoll"), &elapsed);
	}
	printf("{\"workload\": \"%s\", \"engine\": \"%s\", \"ops\": %llu, "
	       "\"seconds\": %.6f, \"ops_per_sec\": %.1f, \"qd\": %u, \"bs\": %u, "
	       "\"fixed\": %s}\n",
	       direct ? "direct" : "read", o->engine, (unsigned long long)ops,
	       elapsed, (double)ops / elapsed, qd, c.bs, c.fixed ? "true" : "false");
	close(c.fd);
	free(c.bufs);
}

/* ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
	struct opts o;

	parse_args(argc, argv, &o);
	if (!strcmp(o.workload, "nop"))
		run_nop(&o);
	else if (!strcmp(o.workload, "read"))
		run_read(&o, 0);
	else
		run_read(&o, 1);

	if (fflush(stdout) != 0 || ferror(stdout))
		die("writing to stdout: %s", strerror(errno));
	return 0;
}
