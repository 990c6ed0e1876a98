/*
 * logd_server.c - the logd server in C on a raw io_uring (ring.h, no liburing): the machine's
 * limit beside the Python servers in `uring logd bench` (server "c"). Same protocol
 * (uring/logd/protocol.py), same durability as uring/logd/server.py:
 *   multishot accept; a multishot recv per connection from one provided-buffer ring (each
 *   buffer copied out and handed back at once; a recv ended by -ENOBUFS is re-armed after
 *   the reap, the bytes wait in the socket); framing on '\n'; one commit chain in flight,
 *   written at explicit offsets so the file is always a prefix of the append stream: with
 *   --group-commit one write -> fsync covers every record that arrived while the previous
 *   one ran, otherwise each record gets its own linked write -> fsync (up to 512 records
 *   per chain); acks "<n>\n" (cumulative per connection) sent through the ring only from
 *   the fsync's completion; while a commit runs the loop sleeps until all its CQEs are in.
 *   SIGINT/SIGTERM: stop accepting and reading, commit and ack what was received, close.
 * What it leaves out, as an instrument: the receive pause past a backlog limit (bench
 * clients keep a window of records), and a failed commit ends the process (exit 1) where
 * the Python server first sends ERR lines; nothing unacked is ever acked either way.
 *
 * usage: logd_server --listen HOST:PORT --log FILE [--sync fsync|fdatasync|none]
 *                    [--group-commit] [--max-record BYTES] [--fixed-files]
 * --fixed-files: accept into the registered file table, recv/send/shutdown/close through it
 * (IOSQE_FIXED_FILE: no fget/fput per op).
 * Prints "logd listening on HOST:PORT" once listening, "logd stats {json}" at a clean exit.
 */
#define BENCH_PROG "logd_server"
#include "ring.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

enum { K_ACCEPT, K_RECV, K_SEND, K_WRITE, K_FSYNC, K_SIGNAL, K_RETRY, K_IGNORE };

#define NBUFS 256
#define BUFSZ 16384
#define BGID 7
#define SQ_ENTRIES 2048
#define CHAIN_RECORDS 512

struct conn {
	int fd;			/* a file table slot with --fixed-files */
	int idx;		/* in conns[] */
	char *partial;		/* bytes after the last newline */
	size_t plen, pcap;
	uint64_t received, durable, acked, reached;
	int recv_live, sending, gone, error, error_sent, dirty, in_batch;
	char out[128];		/* the ack (and error line) being sent */
	unsigned out_off, out_len;
};

struct rec { uint32_t len; struct conn *c; uint64_t reached; };
struct bytes { char *p; size_t len, cap; };
struct recs { struct rec *v; size_t n, cap; };
struct conns { struct conn **v; size_t n, cap; };
/* group commit: the connections with records in the next commit (reaching c->reached), and
 * those of the commit in flight with the count each reaches when its fsync completes */

static struct ring ring;
static int group_commit, fixed, log_fd, listen_fd, sig_fd, sqe_fixed;
static unsigned fsync_flags;
static int sync_none;
static size_t max_record = 1 << 20;
static uint64_t offset;
static char *bufs;
static struct io_uring_buf_ring *br;
static unsigned br_tail;
static struct bytes pend, flight;		/* records waiting for / in the commit */
static struct recs pend_recs, flight_recs;	/* per record: the same, one entry each */
static struct conns all, batch, dirty, rearm;
static struct recs flight_batch;
static unsigned commit_left;
static int accept_live, stop_requested, stopping;
static struct signalfd_siginfo siginfo;
static struct __kernel_timespec retry_ts = { .tv_nsec = 50 * 1000 * 1000 };
static unsigned long long st_accepted, st_closed, st_records, st_bytes, st_commits, st_fsyncs,
	st_acks, st_too_long, st_cut_short, st_enobufs;

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p)
		die("out of memory");
	return p;
}

static void bytes_add(struct bytes *b, const char *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void recs_add(struct recs *r, uint32_t len, struct conn *c, uint64_t reached)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 1024;
		r->v = xrealloc(r->v, r->cap * sizeof(*r->v));
	}
	r->v[r->n++] = (struct rec){ len, c, reached };
}

static void conns_add(struct conns *s, struct conn *c)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] = c;
}

/* ------------------------------------------------------------------ */
/* SQEs                                                                */

static unsigned unsubmitted(void)
{
	return ring.sq_tail - __atomic_load_n(ring.sq_khead, __ATOMIC_ACQUIRE);
}

static void submit(void)
{
	ring_flush_sq(&ring);
	while (unsubmitted())
		ring_enter(&ring, unsubmitted(), 0, 0);
}

/* Submits what is queued when fewer than `n` SQE slots are free: a link chain must go in
 * with one enter, or it is cut where the enter ends. */
static void reserve(unsigned n)
{
	if (ring.sq_entries - unsubmitted() < n)
		submit();
}

/* A zeroed SQE whose completion comes back as (kind, data). */
static struct io_uring_sqe *sqe_get(int kind, uint64_t data)
{
	reserve(1);
	struct io_uring_sqe *sqe = ring_get_sqe(&ring);
	sqe->user_data = data << 3 | (uint64_t)kind;
	return sqe;
}

static struct io_uring_sqe *sock_sqe(int op, struct conn *c, int kind)
{
	struct io_uring_sqe *sqe = sqe_get(kind, (uint64_t)(uintptr_t)c >> 3);
	sqe->opcode = op;
	sqe->fd = c->fd;
	sqe->flags = sqe_fixed;
	return sqe;
}

static void arm_accept(void)
{
	struct io_uring_sqe *sqe = sqe_get(K_ACCEPT, 0);
	sqe->opcode = IORING_OP_ACCEPT;
	sqe->fd = listen_fd;
	sqe->ioprio = IORING_ACCEPT_MULTISHOT;
	if (fixed)	/* no fd, so no O_CLOEXEC (the kernel refuses the pair) */
		sqe->file_index = IORING_FILE_INDEX_ALLOC;
	else
		sqe->accept_flags = SOCK_CLOEXEC;
	accept_live = 1;
}

static void arm_recv(struct conn *c)
{
	struct io_uring_sqe *sqe = sock_sqe(IORING_OP_RECV, c, K_RECV);
	sqe->ioprio = IORING_RECV_MULTISHOT;
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	c->recv_live = 1;
}

static void send_out(struct conn *c)
{
	struct io_uring_sqe *sqe = sock_sqe(IORING_OP_SEND, c, K_SEND);
	sqe->addr = (uintptr_t)(c->out + c->out_off);
	sqe->len = c->out_len - c->out_off;
	sqe->msg_flags = MSG_NOSIGNAL;
	c->sending = 1;
}

static void shut_rd(struct conn *c)
{
	struct io_uring_sqe *sqe = sock_sqe(IORING_OP_SHUTDOWN, c, K_IGNORE);
	sqe->len = SHUT_RD;
}

static void cancel_all(int kind)
{
	struct io_uring_sqe *sqe = sqe_get(K_IGNORE, 0);
	sqe->opcode = IORING_OP_ASYNC_CANCEL;
	sqe->addr = (uint64_t)kind;	/* the user_data of the accept or of its retry timeout */
	sqe->cancel_flags = IORING_ASYNC_CANCEL_ALL;
}

static void recycle(unsigned bid)
{
	struct io_uring_buf *b = &br->bufs[br_tail & (NBUFS - 1)];
	b->addr = (uintptr_t)(bufs + (size_t)bid * BUFSZ);
	b->len = BUFSZ;
	b->bid = bid;
	__atomic_store_n(&br->tail, ++br_tail, __ATOMIC_RELEASE);
}

/* ------------------------------------------------------------------ */
/* connections                                                         */

static void mark_dirty(struct conn *c)
{
	if (!c->dirty) {
		c->dirty = 1;
		conns_add(&dirty, c);
	}
}

static void close_fd(int fd)
{
	if (fixed) {
		struct io_uring_sqe *sqe = sqe_get(K_IGNORE, 0);
		sqe->opcode = IORING_OP_CLOSE;
		sqe->file_index = fd + 1;
	} else {
		close(fd);
	}
}

static void close_conn(struct conn *c)
{
	close_fd(c->fd);
	all.v[c->idx] = all.v[--all.n];
	all.v[c->idx]->idx = c->idx;
	free(c->partial);
	free(c);
	st_closed++;
}

static void too_long(struct conn *c)
{
	st_too_long++;
	c->error = 1;
	shut_rd(c);	/* the recv ends with res 0; the error line goes after the acks */
	mark_dirty(c);
}

/* Whole records of `c` received: `n` bytes at `p` (a first part may wait in c->partial). */
static void take_records(struct conn *c, const char *p, size_t n)
{
	const char *end = p + n, *line = p;
	size_t first = c->plen;		/* bytes of the first line already in c->partial */
	uint64_t count = 0;
	for (const char *nl; line < end && (nl = memchr(line, '\n', end - line)); line = nl + 1) {
		size_t len = first + (size_t)(nl + 1 - line);
		if (len > max_record) {
			too_long(c);
			return;
		}
		count++;
		if (!group_commit)
			recs_add(&pend_recs, (uint32_t)len, c, c->received + count);
		first = 0;
	}
	bytes_add(&pend, c->partial, c->plen);
	bytes_add(&pend, p, n);
	c->plen = 0;
	c->received += count;
	st_records += count;
	if (group_commit) {
		c->reached = c->received;
		if (!c->in_batch) {
			c->in_batch = 1;
			conns_add(&batch, c);
		}
	}
}

static void on_data(struct conn *c, const char *p, size_t n)
{
	const char *nl = memrchr(p, '\n', n);
	size_t whole = nl ? (size_t)(nl + 1 - p) : 0, rest = n - whole;
	if (whole)
		take_records(c, p, whole);
	if (c->error)
		return;
	if (c->plen + rest >= max_record) {
		too_long(c);
		return;
	}
	if (c->plen + rest > c->pcap) {
		c->pcap = (c->plen + rest) * 2;
		c->partial = xrealloc(c->partial, c->pcap);
	}
	memcpy(c->partial + c->plen, p + whole, rest);
	c->plen += rest;
}

static void on_recv(struct conn *c, int res, unsigned flags)
{
	if (res > 0) {
		unsigned bid = flags >> IORING_CQE_BUFFER_SHIFT;
		if (!c->error)
			on_data(c, bufs + (size_t)bid * BUFSZ, (size_t)res);
		recycle(bid);
		if (flags & IORING_CQE_F_MORE)
			return;
	} else if (flags & IORING_CQE_F_MORE) {
		return;
	}
	if (res > 0 || res == -ENOBUFS) {
		st_enobufs += res == -ENOBUFS;
		if (!c->error && !stopping) {
			conns_add(&rearm, c);	/* after this reap, when buffers are back */
			return;
		}
	} else if (res < 0) {
		c->gone = 1;
	}
	c->recv_live = 0;
	st_cut_short += c->plen;	/* bytes after the last newline: a record cut short */
	mark_dirty(c);
}

static void on_send(struct conn *c, int res)
{
	c->sending = 0;
	if (res < 0) {
		c->gone = 1;
	} else if ((unsigned)res < c->out_len - c->out_off) {
		c->out_off += res;
		send_out(c);
		return;
	}
	if (c->durable > c->acked || !c->recv_live || c->error)
		mark_dirty(c);
}

/* Send each connection what it is owed; close it once nothing more can happen on it. */
static void settle(void)
{
	static const char err_fmt[] = "ERR record longer than %zu bytes (newline included)\n";
	for (size_t i = 0; i < dirty.n; i++) {
		struct conn *c = dirty.v[i];
		c->dirty = 0;
		if (c->sending)
			continue;
		if (!c->gone) {
			c->out_len = c->out_off = 0;
			if (c->durable > c->acked) {
				c->out_len = sprintf(c->out, "%llu\n", (unsigned long long)c->durable);
				c->acked = c->durable;
				st_acks++;
			}
			if (c->error && c->durable == c->received && !c->error_sent) {
				c->out_len += sprintf(c->out + c->out_len, err_fmt, max_record);
				c->error_sent = 1;
			}
			if (c->out_len) {
				send_out(c);
				continue;
			}
		}
		if (c->recv_live || c->durable != c->received)
			continue;
		if (c->error && !c->error_sent && !c->gone)
			continue;
		close_conn(c);
	}
	dirty.n = 0;
}

static void on_accept(int res, unsigned flags)
{
	if (res >= 0) {
		if (stopping) {
			close_fd(res);
		} else {
			struct conn *c = calloc(1, sizeof(*c));
			if (!c)
				die("out of memory");
			c->fd = res;
			c->idx = (int)all.n;
			conns_add(&all, c);
			conns_add(&rearm, c);
			st_accepted++;
		}
	}
	if (flags & IORING_CQE_F_MORE)
		return;
	accept_live = 0;
	if (stopping)
		return;
	if (res == -EMFILE || res == -ENFILE || res == -ENOBUFS || res == -ENOMEM) {
		/* out of descriptors: the connections wait in the backlog a while */
		struct io_uring_sqe *sqe = sqe_get(K_RETRY, 0);
		sqe->opcode = IORING_OP_TIMEOUT;
		sqe->addr = (uintptr_t)&retry_ts;
		sqe->len = 1;
		accept_live = 1;
	} else if (res >= 0 || res == -ECONNABORTED || res == -EINTR) {
		arm_accept();
	} else {
		die("multishot accept failed: %s", strerror(-res));
	}
}

/* ------------------------------------------------------------------ */
/* commits                                                             */

static void commit_sqe(int op, unsigned link, uint64_t idx, const char *p, uint32_t len)
{
	struct io_uring_sqe *sqe = sqe_get(op == IORING_OP_WRITE ? K_WRITE : K_FSYNC, idx);
	sqe->opcode = op;
	sqe->fd = log_fd;
	sqe->flags = link ? IOSQE_IO_LINK : 0;
	if (op == IORING_OP_WRITE) {
		sqe->addr = (uintptr_t)p;
		sqe->len = len;
		sqe->off = offset;
		offset += len;
	} else {
		sqe->fsync_flags = fsync_flags;
	}
}

static void commit(void)
{
	struct bytes b = flight;
	flight = pend;
	pend = b;
	pend.len = 0;
	st_commits++;
	if (group_commit) {
		reserve(2);
		commit_sqe(IORING_OP_WRITE, !sync_none, 0, flight.p, (uint32_t)flight.len);
		if (!sync_none)
			commit_sqe(IORING_OP_FSYNC, 0, 0, NULL, 0);
		commit_left = sync_none ? 1 : 2;
		st_fsyncs += !sync_none;
		st_bytes += flight.len;
		for (size_t i = 0; i < batch.n; i++) {
			struct conn *c = batch.v[i];
			c->in_batch = 0;
			recs_add(&flight_batch, 0, c, c->reached);
		}
		batch.n = 0;
		return;
	}
	struct recs r = flight_recs;
	flight_recs = pend_recs;
	pend_recs = r;
	pend_recs.n = 0;
	size_t n = flight_recs.n < CHAIN_RECORDS ? flight_recs.n : CHAIN_RECORDS, used = 0;
	unsigned per = sync_none ? 1 : 2;
	reserve(per * n);
	for (size_t i = 0; i < n; i++) {
		struct rec *x = &flight_recs.v[i];
		int last = i == n - 1;
		commit_sqe(IORING_OP_WRITE, !sync_none || !last, i, flight.p + used, x->len);
		if (!sync_none)
			commit_sqe(IORING_OP_FSYNC, !last, i, NULL, 0);
		used += x->len;
	}
	/* the records past this chain's limit wait for the next one */
	bytes_add(&pend, flight.p + used, flight.len - used);
	for (size_t i = n; i < flight_recs.n; i++)
		recs_add(&pend_recs, flight_recs.v[i].len, flight_recs.v[i].c, flight_recs.v[i].reached);
	flight_recs.n = n;
	commit_left = per * n;
	st_fsyncs += sync_none ? 0 : n;
	st_bytes += used;
}

static void on_commit(int kind, uint64_t idx, int res)
{
	commit_left--;
	int judge = kind == K_FSYNC || sync_none;	/* the fsync's CQE judges its write too */
	if (kind == K_WRITE) {
		uint32_t want = group_commit ? (uint32_t)flight.len : flight_recs.v[idx].len;
		if (res != (int)want)
			die("log write failed: %s", res < 0 ? strerror(-res) : "short write");
	} else if (res < 0) {
		die("log fsync failed: %s", strerror(-res));
	}
	if (!judge)
		return;
	if (group_commit) {
		for (size_t i = 0; i < flight_batch.n; i++) {
			flight_batch.v[i].c->durable = flight_batch.v[i].reached;
			mark_dirty(flight_batch.v[i].c);
		}
		flight_batch.n = 0;
	} else {
		struct rec *x = &flight_recs.v[idx];
		x->c->durable = x->reached;
		mark_dirty(x->c);
	}
}

/* ------------------------------------------------------------------ */
/* the loop                                                            */

static void begin_shutdown(void)
{
	stopping = 1;
	if (accept_live) {
		cancel_all(K_ACCEPT);
		cancel_all(K_RETRY);
	}
	for (size_t i = 0; i < all.n; i++) {
		if (all.v[i]->recv_live)
			shut_rd(all.v[i]);
		else
			mark_dirty(all.v[i]);
	}
}

static void arm_signal(void)
{
	struct io_uring_sqe *sqe = sqe_get(K_SIGNAL, 0);
	sqe->opcode = IORING_OP_READ;
	sqe->fd = sig_fd;
	sqe->addr = (uintptr_t)&siginfo;
	sqe->len = sizeof(siginfo);
}

static void flush(void)
{
	if (stop_requested && !stopping)
		begin_shutdown();
	for (size_t i = 0; i < rearm.n; i++) {
		struct conn *c = rearm.v[i];
		if (!c->error && !stopping) {
			arm_recv(c);
		} else if (c->recv_live) {
			c->recv_live = 0;
			mark_dirty(c);
		}
	}
	rearm.n = 0;
	if (!commit_left && pend.len)
		commit();
	if (dirty.n)
		settle();
}

static void reap(void)
{
	unsigned head = *ring.cq_khead;
	unsigned tail = __atomic_load_n(ring.cq_ktail, __ATOMIC_ACQUIRE);
	for (; head != tail; head++) {
		struct io_uring_cqe *cqe = &ring.cqes[head & ring.cq_mask];
		int kind = (int)(cqe->user_data & 7);
		uint64_t data = cqe->user_data >> 3;
		struct conn *c = (struct conn *)(uintptr_t)(data << 3);
		switch (kind) {
		case K_ACCEPT: on_accept(cqe->res, cqe->flags); break;
		case K_RECV: on_recv(c, cqe->res, cqe->flags); break;
		case K_SEND: on_send(c, cqe->res); break;
		case K_WRITE: case K_FSYNC: on_commit(kind, data, cqe->res); break;
		case K_SIGNAL:
			if (cqe->res == (int)sizeof(siginfo))
				stop_requested = 1;
			else
				arm_signal();
			break;
		case K_RETRY:
			accept_live = 0;
			if (!stopping)
				arm_accept();
			break;
		}
		__atomic_store_n(ring.cq_khead, head + 1, __ATOMIC_RELEASE);
	}
}

/* ------------------------------------------------------------------ */
/* set-up                                                              */

/* The log after cutting a torn tail (bytes after the last newline: never acknowledged),
 * with its directory entry made durable (a fresh log must not vanish in a crash). */
static void open_log(const char *path)
{
	log_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (log_fd < 0)
		die("%s: %s", path, strerror(errno));
	struct stat st;
	fstat(log_fd, &st);
	off_t end = st.st_size;
	static char block[65536];
	while (end > 0) {
		off_t start = end > (off_t)sizeof(block) ? end - (off_t)sizeof(block) : 0;
		ssize_t n = pread(log_fd, block, end - start, start);
		if (n != end - start)
			die("%s: short read", path);
		char *nl = memrchr(block, '\n', n);
		if (nl) {
			end = start + (nl - block) + 1;
			break;
		}
		end = start;
	}
	if (end != st.st_size && (ftruncate(log_fd, end) < 0 || fsync(log_fd) < 0))
		die("%s: %s", path, strerror(errno));
	offset = (uint64_t)end;
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = 0;
	else
		strcpy(dir, ".");
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	if (dfd < 0 || fsync(dfd) < 0)
		die("%s: %s", dir, strerror(errno));
	close(dfd);
}

static void listen_on(const char *spec)
{
	char host[256];
	const char *colon = strrchr(spec, ':');
	if (!colon || (size_t)(colon - spec) >= sizeof(host))
		die("expected HOST:PORT, got '%s'", spec);
	memcpy(host, spec, colon - spec);
	host[colon - spec] = 0;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(atoi(colon + 1)) };
	if (inet_pton(AF_INET, host[0] ? host : "0.0.0.0", &sa.sin_addr) != 1)
		die("not an IPv4 address: '%s'", host);
	int one = 1;
	listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* accepted sockets inherit it: small acks must not wait for Nagle */
	setsockopt(listen_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(listen_fd, 4096) < 0)
		die("listen on %s: %s", spec, strerror(errno));
	socklen_t len = sizeof(sa);
	getsockname(listen_fd, (struct sockaddr *)&sa, &len);
	inet_ntop(AF_INET, &sa.sin_addr, host, sizeof(host));
	printf("logd listening on %s:%d\n", host, ntohs(sa.sin_port));
	fflush(stdout);
}

static void setup_ring(void)
{
	const unsigned tries[] = { IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
				   IORING_SETUP_COOP_TASKRUN, 0 };
	int err = 0;
	for (unsigned i = 0; i < 3; i++) {
		/* multishot recvs post many CQEs per SQE */
		err = ring_try_init(&ring, SQ_ENTRIES, tries[i] | IORING_SETUP_CQSIZE, SQ_ENTRIES * 8);
		if (!err)
			break;
	}
	if (err)
		die("io_uring_setup: %s", strerror(-err));
	size_t ring_sz = NBUFS * sizeof(struct io_uring_buf);
	br = mmap(NULL, ring_sz, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	bufs = malloc((size_t)NBUFS * BUFSZ);
	if (br == MAP_FAILED || !bufs)
		die("out of memory");
	struct io_uring_buf_reg reg = { .ring_addr = (uintptr_t)br, .ring_entries = NBUFS, .bgid = BGID };
	if (sys_register(ring.fd, IORING_REGISTER_PBUF_RING, &reg, 1) < 0)
		die("IORING_REGISTER_PBUF_RING: %s", strerror(errno));
	for (unsigned bid = 0; bid < NBUFS; bid++)
		recycle(bid);
	if (fixed) {
		struct rlimit lim;	/* the kernel caps the table at RLIMIT_NOFILE */
		getrlimit(RLIMIT_NOFILE, &lim);
		struct io_uring_rsrc_register files = { .nr = (unsigned)lim.rlim_cur,
							.flags = IORING_RSRC_REGISTER_SPARSE };
		if (sys_register(ring.fd, IORING_REGISTER_FILES2, &files, sizeof(files)) < 0)
			die("IORING_REGISTER_FILES2: %s", strerror(errno));
		sqe_fixed = IOSQE_FIXED_FILE;
	}
}

int main(int argc, char **argv)
{
	const char *listen_spec = NULL, *log_path = NULL, *sync = "fsync";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--group-commit")) group_commit = 1;
		else if (!strcmp(a, "--fixed-files")) fixed = 1;
		else if (!strcmp(a, "--listen") && v) listen_spec = argv[++i];
		else if (!strcmp(a, "--log") && v) log_path = argv[++i];
		else if (!strcmp(a, "--sync") && v) sync = argv[++i];
		else if (!strcmp(a, "--max-record") && v) max_record = strtoul(argv[++i], NULL, 0);
		else die("usage: %s --listen HOST:PORT --log FILE [--sync fsync|fdatasync|none] "
			 "[--group-commit] [--max-record BYTES] [--fixed-files]", prog);
	}
	if (!listen_spec || !log_path || max_record < 2)
		die("--listen HOST:PORT and --log FILE are required (and --max-record >= 2)");
	if (!strcmp(sync, "fdatasync"))
		fsync_flags = IORING_FSYNC_DATASYNC;
	else if (!strcmp(sync, "none"))
		sync_none = 1;
	else if (strcmp(sync, "fsync"))
		die("--sync must be fsync, fdatasync or none");

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sig_fd = signalfd(-1, &mask, SFD_CLOEXEC);
	open_log(log_path);
	setup_ring();
	listen_on(listen_spec);
	arm_accept();
	arm_signal();
	for (;;) {
		flush();
		if (stopping && !all.n && !commit_left && !accept_live)
			break;
		ring_flush_sq(&ring);
		/* While a commit runs, sleep until all its CQEs are in: what arrives meanwhile
		 * can only join the next commit, so it is reaped in the same wake-up. */
		ring_enter(&ring, unsubmitted(), commit_left ? commit_left : 1, IORING_ENTER_GETEVENTS);
		reap();
	}
	submit();	/* the last closes (--fixed-files) */
	printf("logd stats {\"accepted\": %llu, \"closed\": %llu, \"records\": %llu, \"bytes\": %llu, "
	       "\"commits\": %llu, \"fsyncs\": %llu, \"acks_sent\": %llu, \"too_long\": %llu, "
	       "\"cut_short_bytes\": %llu, \"enobufs\": %llu, \"buffers\": %d, \"buffers_free\": %d}\n",
	       st_accepted, st_closed, st_records, st_bytes, st_commits, st_fsyncs, st_acks,
	       st_too_long, st_cut_short, st_enobufs, NBUFS, NBUFS);
	ring_exit(&ring);
	return 0;
}
