/*
 * ring.h - a raw io_uring (io_uring_setup/enter/register as syscalls, the mmap()ed SQ/CQ
 * rings and SQE array; no liburing) shared by the C benchmark programs in this directory.
 * Each program is one translation unit that defines BENCH_PROG (its name in die()'s
 * messages) and includes this file first (`cc -O2 prog.c` finds it next to the source).
 */
#ifndef URING_BENCH_RING_H
#define URING_BENCH_RING_H
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/io_uring.h>

#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#endif
#ifndef __NR_io_uring_enter
#define __NR_io_uring_enter 426
#endif
#ifndef __NR_io_uring_register
#define __NR_io_uring_register 427
#endif
/* Newer than some distro UAPI headers (e.g. linux-libc-dev 6.1). */
#ifndef IORING_SETUP_NO_SQARRAY
#define IORING_SETUP_NO_SQARRAY (1U << 16)
#endif

static const char *prog = BENCH_PROG;

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* ------------------------------------------------------------------ */
/* raw syscalls                                                        */

static int sys_setup(unsigned entries, struct io_uring_params *p)
{
	return (int)syscall(__NR_io_uring_setup, entries, p);
}

static int sys_enter(int fd, unsigned to_submit, unsigned min_complete,
		     unsigned flags)
{
	return (int)syscall(__NR_io_uring_enter, fd, to_submit, min_complete,
			    flags, NULL, 0);
}

static int sys_register(int fd, unsigned opcode, const void *arg,
			unsigned nr_args)
{
	return (int)syscall(__NR_io_uring_register, fd, opcode, arg, nr_args);
}

/* ------------------------------------------------------------------ */
/* ring                                                                */

struct ring {
	int fd;
	unsigned flags;		/* setup flags actually in effect */
	unsigned features;

	/* SQ */
	unsigned *sq_khead;
	unsigned *sq_ktail;
	unsigned *sq_kflags;
	unsigned *sq_array;	/* NULL with IORING_SETUP_NO_SQARRAY */
	unsigned sq_mask;
	unsigned sq_entries;
	unsigned sq_tail;	/* private tail (next SQE to fill) */
	struct io_uring_sqe *sqes;

	/* CQ */
	unsigned *cq_khead;
	unsigned *cq_ktail;
	unsigned cq_mask;
	unsigned cq_entries;
	struct io_uring_cqe *cqes;

	/* mappings */
	void *sq_ring_ptr;
	size_t sq_ring_sz;
	void *cq_ring_ptr;	/* == sq_ring_ptr with FEAT_SINGLE_MMAP */
	size_t cq_ring_sz;
	size_t sqes_sz;
};

/*
 * Set up a ring of `entries` SQEs (`cq_entries` CQEs with IORING_SETUP_CQSIZE in `flags`,
 * else ignored). Returns 0, or -errno when the kernel refuses the setup (a caller may then
 * try other flags); dies on the failures after that.
 */
static int ring_try_init(struct ring *r, unsigned entries, unsigned flags, unsigned cq_entries)
{
	struct io_uring_params p;
	int fd;

	memset(r, 0, sizeof(*r));

	/* Try without the SQ index array first (kernel >= 6.6). */
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_NO_SQARRAY | flags;
	p.sq_thread_idle = 1000;	/* ms; only read with SQPOLL */
	p.cq_entries = cq_entries;
#ifdef RAWRING_FORCE_SQARRAY	/* testing aid: exercise the fallback path */
	fd = -1;
	errno = EINVAL;
#else
	fd = sys_setup(entries, &p);
#endif
	if (fd < 0 && errno == EINVAL) {
		memset(&p, 0, sizeof(p));
		p.flags = flags;
		p.sq_thread_idle = 1000;
		p.cq_entries = cq_entries;
		fd = sys_setup(entries, &p);
	}
	if (fd < 0)
		return -errno;

	r->fd = fd;
	r->flags = p.flags;
	r->features = p.features;

	int no_sqarray = (p.flags & IORING_SETUP_NO_SQARRAY) != 0;

	if (no_sqarray) {
		/* No array: the SQ part ends after its last scalar field. */
		unsigned last = p.sq_off.head;
		const unsigned offs[] = { p.sq_off.tail, p.sq_off.ring_mask,
					  p.sq_off.ring_entries, p.sq_off.flags,
					  p.sq_off.dropped };
		for (unsigned i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
			if (offs[i] > last)
				last = offs[i];
		r->sq_ring_sz = last + sizeof(unsigned);
	} else
		r->sq_ring_sz = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	r->cq_ring_sz = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);

	if (p.features & IORING_FEAT_SINGLE_MMAP) {
		if (r->cq_ring_sz > r->sq_ring_sz)
			r->sq_ring_sz = r->cq_ring_sz;
		r->cq_ring_sz = r->sq_ring_sz;
	} else if (no_sqarray) {
		/* Cannot happen: NO_SQARRAY postdates SINGLE_MMAP. */
		die("kernel accepted NO_SQARRAY without FEAT_SINGLE_MMAP");
	}

	r->sq_ring_ptr = mmap(NULL, r->sq_ring_sz, PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
	if (r->sq_ring_ptr == MAP_FAILED)
		die("mmap(SQ ring): %s", strerror(errno));

	if (p.features & IORING_FEAT_SINGLE_MMAP) {
		r->cq_ring_ptr = r->sq_ring_ptr;
	} else {
		r->cq_ring_ptr = mmap(NULL, r->cq_ring_sz,
				      PROT_READ | PROT_WRITE,
				      MAP_SHARED | MAP_POPULATE, fd,
				      IORING_OFF_CQ_RING);
		if (r->cq_ring_ptr == MAP_FAILED)
			die("mmap(CQ ring): %s", strerror(errno));
	}

	r->sqes_sz = p.sq_entries * sizeof(struct io_uring_sqe);
	r->sqes = mmap(NULL, r->sqes_sz, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
	if (r->sqes == MAP_FAILED)
		die("mmap(SQEs): %s", strerror(errno));

	char *sq = r->sq_ring_ptr;
	char *cq = r->cq_ring_ptr;

	r->sq_khead = (unsigned *)(sq + p.sq_off.head);
	r->sq_ktail = (unsigned *)(sq + p.sq_off.tail);
	r->sq_kflags = (unsigned *)(sq + p.sq_off.flags);
	r->sq_mask = *(unsigned *)(sq + p.sq_off.ring_mask);
	r->sq_entries = *(unsigned *)(sq + p.sq_off.ring_entries);
	r->sq_tail = *r->sq_ktail;

	r->cq_khead = (unsigned *)(cq + p.cq_off.head);
	r->cq_ktail = (unsigned *)(cq + p.cq_off.tail);
	r->cq_mask = *(unsigned *)(cq + p.cq_off.ring_mask);
	r->cq_entries = *(unsigned *)(cq + p.cq_off.ring_entries);
	r->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);

	if (!no_sqarray) {
		/*
		 * Legacy indirection array: SQE slot i is always published
		 * through array entry i, so an identity map written once is
		 * all that is needed (the kernel only reads it).
		 */
		r->sq_array = (unsigned *)(sq + p.sq_off.array);
		for (unsigned i = 0; i < r->sq_entries; i++)
			r->sq_array[i] = i;
	}
	return 0;
}

static __attribute__((unused)) void ring_init(struct ring *r, unsigned entries, unsigned flags)
{
	int err = ring_try_init(r, entries, flags, 0);
	if (err < 0)
		die("io_uring_setup(%u): %s", entries, strerror(-err));
}

static void ring_exit(struct ring *r)
{
	munmap(r->sqes, r->sqes_sz);
	if (r->cq_ring_ptr != r->sq_ring_ptr)
		munmap(r->cq_ring_ptr, r->cq_ring_sz);
	munmap(r->sq_ring_ptr, r->sq_ring_sz);
	close(r->fd);
}

/* Next free SQE (zeroed), or die if the SQ is full. */
static inline struct io_uring_sqe *ring_get_sqe(struct ring *r)
{
	unsigned head = __atomic_load_n(r->sq_khead, __ATOMIC_ACQUIRE);

	while (r->sq_tail - head >= r->sq_entries) {
		/*
		 * The SQPOLL thread publishes its new head only after the
		 * whole batch, so a read completed inline can be reaped
		 * before its SQE slot is given back: wait for the head.
		 */
		if (!(r->flags & IORING_SETUP_SQPOLL))
			die("submission queue full (internal error)");
		if (__atomic_load_n(r->sq_kflags, __ATOMIC_ACQUIRE) &
		    IORING_SQ_NEED_WAKEUP)
			sys_enter(r->fd, 0, 0, IORING_ENTER_SQ_WAKEUP);
		else
			sched_yield();
		head = __atomic_load_n(r->sq_khead, __ATOMIC_ACQUIRE);
	}
	struct io_uring_sqe *sqe = &r->sqes[r->sq_tail & r->sq_mask];
	r->sq_tail++;
	memset(sqe, 0, sizeof(*sqe));
	return sqe;
}

/* Publish all filled SQEs to the kernel. */
static inline void ring_flush_sq(struct ring *r)
{
	__atomic_store_n(r->sq_ktail, r->sq_tail, __ATOMIC_RELEASE);
}

/*
 * io_uring_enter with EINTR retry.  Returns the number of SQEs consumed
 * (>= 0), or -errno for EAGAIN/EBUSY (caller retries); dies otherwise.
 */
static int ring_enter(struct ring *r, unsigned to_submit, unsigned min_complete,
		      unsigned flags)
{
	for (;;) {
		int ret = sys_enter(r->fd, to_submit, min_complete, flags);
		if (ret >= 0)
			return ret;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EBUSY)
			return -errno;
		die("io_uring_enter(to_submit=%u, min_complete=%u): %s",
		    to_submit, min_complete, strerror(errno));
	}
}
#endif
