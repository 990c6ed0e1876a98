/*
 * echo_server.c - the TCP echo server of `uring bench loop` written in C on a raw ring:
 * the machine's limit for what the Python event loops serve the same C client.
 *
 * One thread, one io_uring (SINGLE_ISSUER | DEFER_TASKRUN where the kernel has them,
 * else COOP_TASKRUN): a multishot ACCEPT on the listening socket, a multishot RECV per
 * connection from one provided-buffer ring, and each received buffer sent back with
 * IORING_OP_SEND straight from that buffer (no copy in user space), which returns to the
 * ring when its send completes. One send in flight per connection keeps the bytes in
 * order; a short send is continued from where it stopped. A receive that finds the
 * ring empty (-ENOBUFS) is re-armed when a buffer comes back. Accepted sockets get
 * TCP_NODELAY, as asyncio and uvloop give their transports.
 *
 * --bounded K changes how data comes in: a multishot POLL per connection only says it is
 * readable, and each enter issues one-shot RECVs (MSG_DONTWAIT, same buffer ring) for at
 * most K readable connections. A multishot receive lands the data of every connection
 * whose bytes arrived (20-40 per enter) before the first reply is sent, and at 64 KiB
 * that has left L2 by the time the SEND reads it back; K bounds that distance. A receive
 * that filled its buffer puts its connection back in line, since more may be waiting.
 *
 * Usage: echo_server [--bufs N] [--buf-size BYTES] [--bounded K]
 *   Listens on 127.0.0.1 (ephemeral port), prints the port on a line of stdout, serves
 *   until stdin reaches EOF (the parent closed it), then exits 0.
 */
#define BENCH_PROG "echo_server"
#include "ring.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#define BGID 1
#define MAX_FDS 65536
#define KIND_SHIFT 56
enum kind { K_ACCEPT = 1, K_RECV, K_SEND, K_STDIN, K_POLL };

struct chunk { uint16_t bid; uint32_t len; };

/* Per connection: received buffers waiting to go back out, oldest first. */
struct conn {
	struct chunk *q;
	unsigned qhead, qlen, qcap;
	uint32_t sent;		/* bytes of q[qhead] already sent */
	int sending, open, starved, closing;
};

static struct ring R;
static struct conn *conns;
static struct io_uring_buf_ring *br;
static char *bufmem;
static unsigned nbufs, bufsize, br_tail;
static int *starved;		/* fds whose receive ended with -ENOBUFS */
static unsigned nstarved;
static int listen_fd, running = 1;
static unsigned bounded;	/* 0: multishot recv; K: poll + at most K one-shot recvs per enter */
static int *readyq;		/* readable connections waiting for a receive, FIFO */
static unsigned rq_head, rq_len;
static char *inready;		/* fd -> queued in readyq */

static struct io_uring_sqe *sqe_get(void)
{
	unsigned head = __atomic_load_n(R.sq_khead, __ATOMIC_ACQUIRE);
	if (R.sq_tail - head >= R.sq_entries) {	/* full: hand the batch over first */
		ring_flush_sq(&R);
		ring_enter(&R, R.sq_tail - head, 0, 0);
	}
	return ring_get_sqe(&R);
}

static void arm_accept(void)
{
	struct io_uring_sqe *s = sqe_get();
	s->opcode = IORING_OP_ACCEPT;
	s->fd = listen_fd;
	s->ioprio = IORING_ACCEPT_MULTISHOT;
	s->user_data = (uint64_t)K_ACCEPT << KIND_SHIFT;
}

static void arm_poll(int fd)
{
	struct io_uring_sqe *s = sqe_get();
	s->opcode = IORING_OP_POLL_ADD;
	s->fd = fd;
	s->poll32_events = POLLIN | POLLRDHUP;
	s->len = IORING_POLL_ADD_MULTI;
	s->user_data = ((uint64_t)K_POLL << KIND_SHIFT) | (unsigned)fd;
}

static void mark_ready(int fd)
{
	if (inready[fd])
		return;
	inready[fd] = 1;
	readyq[(rq_head + rq_len++) % MAX_FDS] = fd;
}

/* A RECV from the buffer ring: multishot (ioprio) or one-shot (msg_flags MSG_DONTWAIT). */
static void queue_recv(int fd, uint16_t ioprio, uint32_t msg_flags)
{
	struct io_uring_sqe *s = sqe_get();
	s->opcode = IORING_OP_RECV;
	s->fd = fd;
	s->ioprio = ioprio;
	s->msg_flags = msg_flags;
	s->flags = IOSQE_BUFFER_SELECT;
	s->buf_group = BGID;
	s->user_data = ((uint64_t)K_RECV << KIND_SHIFT) | (unsigned)fd;
}

static void arm_recv(int fd)
{
	if (bounded)
		mark_ready(fd);
	else
		queue_recv(fd, IORING_RECV_MULTISHOT, 0);
}

static void issue_bounded(void)
{
	for (unsigned i = 0; i < bounded && rq_len; i++) {
		int fd = readyq[rq_head];
		rq_head = (rq_head + 1) % MAX_FDS;
		rq_len--;
		inready[fd] = 0;
		if (conns[fd].open && !conns[fd].closing)
			queue_recv(fd, 0, MSG_DONTWAIT);
	}
}

static void send_head(int fd)
{
	struct conn *c = &conns[fd];
	struct chunk *ch = &c->q[c->qhead];
	struct io_uring_sqe *s = sqe_get();
	s->opcode = IORING_OP_SEND;
	s->fd = fd;
	s->addr = (uint64_t)(uintptr_t)(bufmem + (size_t)ch->bid * bufsize + c->sent);
	s->len = ch->len - c->sent;
	s->msg_flags = MSG_NOSIGNAL;
	s->user_data = ((uint64_t)K_SEND << KIND_SHIFT) | (unsigned)fd;
	c->sending = 1;
}

/* Give buffer `bid` back to the kernel; a receive starved of buffers may go on. */
static void recycle(uint16_t bid)
{
	struct io_uring_buf *b = &br->bufs[br_tail & (nbufs - 1)];
	b->addr = (uint64_t)(uintptr_t)(bufmem + (size_t)bid * bufsize);
	b->len = bufsize;
	b->bid = bid;
	br_tail++;
	__atomic_store_n(&br->tail, (uint16_t)br_tail, __ATOMIC_RELEASE);
	if (nstarved) {
		int fd = starved[--nstarved];
		conns[fd].starved = 0;
		if (conns[fd].open && !conns[fd].closing)
			arm_recv(fd);
	}
}

static void conn_close(int fd)
{
	struct conn *c = &conns[fd];
	if (c->sending) {	/* its buffer is the kernel's until the send completes */
		c->closing = 1;
		return;
	}
	while (c->qlen) {
		recycle(c->q[c->qhead].bid);
		c->qhead = (c->qhead + 1) % c->qcap;
		c->qlen--;
	}
	c->open = 0;
	c->closing = 0;
	close(fd);
}

static void on_accept(int res, unsigned flags)
{
	if (res >= 0) {
		int one = 1;
		if (res >= MAX_FDS)
			die("fd %d out of range", res);
		setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		struct conn *c = &conns[res];
		if (!c->q) {
			c->qcap = 64;
			c->q = malloc(c->qcap * sizeof(*c->q));
			if (!c->q)
				die("out of memory");
		}
		c->qhead = c->qlen = c->sent = 0;
		c->sending = c->starved = c->closing = 0;
		c->open = 1;
		if (bounded)
			arm_poll(res);
		arm_recv(res);
	} else if (res != -EINTR && res != -ECONNABORTED) {
		die("accept: %s", strerror(-res));
	}
	if (!(flags & IORING_CQE_F_MORE))
		arm_accept();
}

static void on_recv(int fd, int res, unsigned flags)
{
	struct conn *c = &conns[fd];
	if (res > 0) {
		if (c->qlen == c->qcap) {	/* grow the ring buffer of chunks, in order */
			struct chunk *q = malloc(2 * c->qcap * sizeof(*q));
			if (!q)
				die("out of memory");
			for (unsigned i = 0; i < c->qlen; i++)
				q[i] = c->q[(c->qhead + i) % c->qcap];
			free(c->q);
			c->q = q;
			c->qhead = 0;
			c->qcap *= 2;
		}
		struct chunk *ch = &c->q[(c->qhead + c->qlen) % c->qcap];
		ch->bid = (uint16_t)(flags >> IORING_CQE_BUFFER_SHIFT);
		ch->len = (uint32_t)res;
		c->qlen++;
		if (!c->sending && !c->closing)
			send_head(fd);
		if (bounded) {
			if ((uint32_t)res == bufsize && !c->closing)
				mark_ready(fd);
		} else if (!(flags & IORING_CQE_F_MORE) && !c->closing)
			arm_recv(fd);
	} else if (bounded && res == -EAGAIN) {
		/* nothing there after all: the poll will say when */
	} else if (res == -ENOBUFS) {
		c->starved = 1;
		starved[nstarved++] = fd;
	} else {			/* EOF or an error: the client is gone */
		conn_close(fd);
	}
}

static void on_send(int fd, int res)
{
	struct conn *c = &conns[fd];
	c->sending = 0;
	if (res < 0) {
		conn_close(fd);
		return;
	}
	c->sent += (uint32_t)res;
	if (c->sent == c->q[c->qhead].len) {
		uint16_t bid = c->q[c->qhead].bid;
		c->qhead = (c->qhead + 1) % c->qcap;
		c->qlen--;
		c->sent = 0;
		recycle(bid);
	}
	if (c->closing)
		conn_close(fd);
	else if (c->qlen)
		send_head(fd);
}

static void setup_buffers(void)
{
	size_t ring_bytes = (size_t)nbufs * sizeof(struct io_uring_buf);
	br = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (br == MAP_FAILED)
		die("mmap(buffer ring): %s", strerror(errno));
	if (posix_memalign((void **)&bufmem, 4096, (size_t)nbufs * bufsize))
		die("out of memory for %u buffers", nbufs);
	struct io_uring_buf_reg reg = {
		.ring_addr = (uint64_t)(uintptr_t)br, .ring_entries = nbufs, .bgid = BGID,
	};
	if (sys_register(R.fd, IORING_REGISTER_PBUF_RING, &reg, 1) < 0)
		die("IORING_REGISTER_PBUF_RING: %s", strerror(errno));
	for (unsigned i = 0; i < nbufs; i++)
		recycle((uint16_t)i);
}

int main(int argc, char **argv)
{
	nbufs = 256;
	bufsize = 65536;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--bufs") && i + 1 < argc)
			nbufs = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--bounded") && i + 1 < argc)
			bounded = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--buf-size") && i + 1 < argc)
			bufsize = (unsigned)atoi(argv[++i]);
		else
			die("usage: %s [--bufs N (a power of 2)] [--buf-size BYTES] [--bounded K]", prog);
	}
	if (!nbufs || (nbufs & (nbufs - 1)) || nbufs > 32768 || !bufsize)
		die("--bufs must be a power of 2 up to 32768, --buf-size > 0");

	listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int one = 1;
	setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(listen_fd, 4096) ||
	    getsockname(listen_fd, (struct sockaddr *)&sa, &len))
		die("listen: %s", strerror(errno));

	conns = calloc(MAX_FDS, sizeof(*conns));
	starved = calloc(MAX_FDS, sizeof(*starved));
	readyq = calloc(MAX_FDS, sizeof(*readyq));
	inready = calloc(MAX_FDS, 1);
	if (!conns || !starved || !readyq || !inready)
		die("out of memory");
	/* The best a C server can ask for: task work run only inside its own enter (measured
	 * here: the same as COOP_TASKRUN for this load), where the kernel has it. */
	unsigned cq = IORING_SETUP_CQSIZE;
	if (ring_try_init(&R, 256, cq | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, 8192) < 0 &&
	    ring_try_init(&R, 256, cq | IORING_SETUP_COOP_TASKRUN, 8192) < 0)
		ring_init(&R, 256, 0);
	setup_buffers();
	arm_accept();
	struct io_uring_sqe *s = sqe_get();	/* stdin EOF (or HUP) ends the run */
	s->opcode = IORING_OP_POLL_ADD;
	s->fd = 0;
	s->poll32_events = POLLIN | POLLHUP;
	s->user_data = (uint64_t)K_STDIN << KIND_SHIFT;

	printf("%d\n", ntohs(sa.sin_port));
	fflush(stdout);
	while (running) {
		if (bounded)
			issue_bounded();
		unsigned head = __atomic_load_n(R.sq_khead, __ATOMIC_ACQUIRE);
		ring_flush_sq(&R);
		int ret = ring_enter(&R, R.sq_tail - head, 1, IORING_ENTER_GETEVENTS);
		if (ret < 0 && ret != -EAGAIN && ret != -EBUSY)
			die("io_uring_enter: %s", strerror(-ret));
		unsigned cq_head = *R.cq_khead;
		unsigned cq_tail = __atomic_load_n(R.cq_ktail, __ATOMIC_ACQUIRE);
		while (cq_head != cq_tail) {
			struct io_uring_cqe *cqe = &R.cqes[cq_head & R.cq_mask];
			int kind = (int)(cqe->user_data >> KIND_SHIFT);
			int fd = (int)(cqe->user_data & 0xFFFFFFFF);
			switch (kind) {
			case K_ACCEPT: on_accept(cqe->res, cqe->flags); break;
			case K_RECV: on_recv(fd, cqe->res, cqe->flags); break;
			case K_SEND: on_send(fd, cqe->res); break;
			case K_STDIN: running = 0; break;
			case K_POLL:	/* readable (or the poll ended: ask again) */
				if (!conns[fd].open || conns[fd].closing)
					break;
				if (cqe->res > 0)
					mark_ready(fd);
				if (!(cqe->flags & IORING_CQE_F_MORE))
					arm_poll(fd);
				break;
			}
			cq_head++;
		}
		__atomic_store_n(R.cq_khead, cq_head, __ATOMIC_RELEASE);
	}
	ring_exit(&R);
	return 0;
}
