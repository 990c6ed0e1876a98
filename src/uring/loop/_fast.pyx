# cython: language_level=3
"""The loop's hot paths compiled: callback handles, call_soon and one loop iteration
(timers, the ring wait, the ready queue), with asyncio's semantics; debug mode uses asyncio's."""

import heapq
from asyncio import base_events, events, format_helpers, futures
from uring.loop._selector import RingSelector

cdef extern from "Python.h":
    object PyContext_CopyCurrent()
    int PyContext_Enter(object ctx) except -1
    int PyContext_Exit(object ctx) except -1

cdef object _heappop = heapq.heappop
cdef object _heapify = heapq.heapify
cdef object _stdlib_run_once = base_events.BaseEventLoop._run_once
cdef object _stdlib_call_soon = base_events.BaseEventLoop.call_soon
cdef object _stdlib_call_soon_inner = base_events.BaseEventLoop._call_soon
cdef double _MAX_TIMEOUT = base_events.MAXIMUM_SELECT_TIMEOUT
cdef Py_ssize_t _MIN_SCHEDULED = base_events._MIN_SCHEDULED_TIMER_HANDLES
cdef double _MIN_CANCELLED_FRACTION = base_events._MIN_CANCELLED_TIMER_HANDLES_FRACTION


cdef class Handle:
    """What call_soon returns: asyncio.Handle's API (cancel, cancelled, get_context) in C."""
    cdef public object _callback
    cdef public object _args
    cdef public bint _cancelled
    cdef public object _loop
    cdef public object _source_traceback
    cdef public object _repr
    cdef public object _context
    cdef object __weakref__

    def __init__(self, callback, args, loop, context=None):
        if context is None:
            context = PyContext_CopyCurrent()
        self._context = context
        self._loop = loop
        self._callback = callback
        self._args = args
        self._cancelled = False
        self._repr = None
        self._source_traceback = None

    def _repr_info(self):
        info = [self.__class__.__name__]
        if self._cancelled:
            info.append('cancelled')
        if self._callback is not None:
            info.append(format_helpers._format_callback_source(self._callback, self._args))
        if self._source_traceback:
            frame = self._source_traceback[-1]
            info.append(f'created at {frame[0]}:{frame[1]}')
        return info

    def __repr__(self):
        if self._repr is not None:
            return self._repr
        return '<{}>'.format(' '.join(self._repr_info()))

    def get_context(self):
        return self._context

    def cancel(self):
        if not self._cancelled:
            self._cancelled = True
            if self._loop.get_debug():
                self._repr = repr(self)
            self._callback = None
            self._args = None

    def cancelled(self):
        return self._cancelled

    def _run(self):
        self.run()

    cdef int run(self) except -1:
        # Context enter/exit and a direct call: what Context.run does, without building
        # the (callback, *args) tuple or looking the method up.
        cdef object ctx = self._context
        cdef object callback = self._callback
        cdef object args = self._args
        try:
            PyContext_Enter(ctx)
            try:
                if args:
                    callback(*args)
                else:
                    callback()
            finally:
                PyContext_Exit(ctx)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            cb = format_helpers._format_callback_source(self._callback, self._args)
            context = {
                'message': f'Exception in callback {cb}',
                'exception': exc,
                'handle': self,
            }
            if self._source_traceback:
                context['source_traceback'] = self._source_traceback
            self._loop.call_exception_handler(context)
        return 0


cdef inline Handle _new_handle(object callback, tuple args, object loop, object context):
    cdef Handle h = Handle.__new__(Handle)
    h._context = PyContext_CopyCurrent() if context is None else context
    h._loop = loop
    h._callback = callback
    h._args = args
    h._cancelled = False
    return h


def call_soon(self, callback, *args, context=None):
    """asyncio's call_soon; outside debug mode the handle is a compiled Handle."""
    if self._debug:
        return _stdlib_call_soon(self, callback, *args, context=context)
    if self._closed:
        raise RuntimeError('Event loop is closed')
    cdef Handle h = _new_handle(callback, args, self, context)
    self._ready.append(h)
    return h


def _call_soon(self, callback, args, context):
    """The entry call_soon_threadsafe uses (deque.append is atomic: any thread may)."""
    if self._debug:
        return _stdlib_call_soon_inner(self, callback, args, context)
    cdef Handle h = _new_handle(callback, args, self, context)
    self._ready.append(h)
    return h


cpdef run_once(self):
    """One iteration, as BaseEventLoop._run_once: prune timers, wait in the ring for I/O
    (not at all if callbacks are ready), move due timers, run the callbacks ready now."""
    if self._debug:
        return _stdlib_run_once(self)
    cdef list sched = self._scheduled
    cdef object ready = self._ready
    cdef Py_ssize_t n = len(sched), i, ntodo
    cdef object handle
    cdef double when, end_time
    if n > _MIN_SCHEDULED and self._timer_cancelled_count / n > _MIN_CANCELLED_FRACTION:
        kept = []
        for handle in sched:
            if handle._cancelled:
                handle._scheduled = False
            else:
                kept.append(handle)
        _heapify(kept)
        self._scheduled = sched = kept
        self._timer_cancelled_count = 0
    else:
        while sched and (<object>sched[0])._cancelled:
            self._timer_cancelled_count -= 1
            handle = _heappop(sched)
            handle._scheduled = False

    timeout = None
    if ready or self._stopping:
        timeout = 0
    elif sched:
        when = sched[0]._when
        timeout = min(max(0.0, when - self.time()), _MAX_TIMEOUT)

    selector = self._selector
    if type(selector) is RingSelector:
        # The wait itself: one enter submits this iteration's SQEs and reaps every CQE
        # (op callbacks run inside it); a poll that fired leaves its fd in _fired.
        ring = selector.ring
        buffers = selector.recv_buffers
        if buffers is not None and (<RecvBuffers>buffers).ready and (<RecvBuffers>buffers).drain():
            timeout = 0     # see RecvBuffers.drain
        # uring.aio's driver on this ring: while it knows it is called from this wait (outside
        # any task), a finished op steps its task right there, with no Handle in between.
        aio = selector.aio
        if aio is not None:
            aio.dispatching = True
        try:
            if timeout is None:
                ring.submit_and_wait(1)
            elif timeout == 0:
                ring.submit_and_wait(0)
            else:
                ring.submit_and_wait(1, timeout)
        finally:
            if aio is not None:
                aio.dispatching = False
        if selector._fired:
            self._process_events(selector._collect())
    else:
        event_list = selector.select(timeout)
        if event_list:
            self._process_events(event_list)
        event_list = None

    if sched:
        end_time = self.time() + self._clock_resolution
        while sched:
            handle = sched[0]
            if handle._when >= end_time:
                break
            handle = _heappop(sched)
            handle._scheduled = False
            ready.append(handle)

    ntodo = len(ready)
    for i in range(ntodo):
        handle = ready.popleft()
        if type(handle) is Handle:
            if not (<Handle>handle)._cancelled:
                (<Handle>handle).run()
        elif not handle._cancelled:
            handle._run()
    handle = None


# Called once or more per request by asyncio's streams (a C Future's constructor asks the
# loop for get_debug; StreamWriter.drain asks the transport is_closing): asyncio's own are
# Python functions, where uvloop's are C.
cdef object _Future = futures.Future


def create_future(self):
    """asyncio's create_future: a Future on this loop."""
    return _Future(loop=self)


def get_debug(self):
    return self._debug


def transport_is_closing(self):
    """asyncio's transport.is_closing."""
    return self._closing


def iterate(loop):
    """run_forever's loop of iterations until stop(); an `_run_once` patched on the
    instance (asyncio's tests count iterations that way) is honoured."""
    patched = loop.__dict__.get('_run_once')
    while True:
        if patched is None:
            run_once(loop)
        else:
            patched()
        if loop._stopping:
            break


# -- stream transports: the receive dispatch and the direct-send write ----------------

from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memset
from libc.errno cimport errno, EAGAIN, EINTR, ENOBUFS
from cpython.bytes cimport PyBytes_FromStringAndSize, PyBytes_AS_STRING
from cpython.mem cimport PyMem_Malloc, PyMem_Free
from cpython.ref cimport PyObject, Py_INCREF, Py_XDECREF

cdef extern from "<sys/socket.h>" nogil:
    ssize_t c_send "send" (int fd, const void *buf, size_t n, int flags)
    enum: MSG_DONTWAIT

cdef extern from *:
    """
    static inline void fast_store_release16(uint16_t *p, uint16_t v) {
        __atomic_store_n(p, v, __ATOMIC_RELEASE);
    }
    /* The bytes object in *slot (the kernel filled its first n bytes; the slot holds the
       only reference) goes to the caller, cut to n bytes; a fresh `size`-byte object takes
       its place. NULL with an exception set if either allocation fails; *slot then holds
       a valid object still (the old one, or the fresh one if only the cut failed). */
    static PyObject *fast_swap_out(PyObject **slot, Py_ssize_t size, Py_ssize_t n) {
        PyObject *fresh = PyBytes_FromStringAndSize(NULL, size);
        PyObject *full;
        if (fresh == NULL)
            return NULL;
        full = *slot;
        *slot = fresh;
        if (n != size && _PyBytes_Resize(&full, n) < 0)
            return NULL;
        return full;
    }
    /* recv(2) of up to `size` bytes straight into a new bytes object, cut to what came.
       Returns the object, or None with *got = 0 (EOF) or -errno; NULL with an exception
       set. (Receiving into one reused object instead left the kernel's copy as costly:
       docs/loop.md.) */
    static PyObject *fast_recv_bytes(int fd, Py_ssize_t size, Py_ssize_t *got) {
        PyObject *b = PyBytes_FromStringAndSize(NULL, size);
        ssize_t n;
        if (b == NULL)
            return NULL;
        n = recv(fd, PyBytes_AS_STRING(b), (size_t)size, MSG_DONTWAIT);
        *got = n < 0 ? -errno : n;
        if (n <= 0) {
            Py_DECREF(b);
            Py_RETURN_NONE;
        }
        if (n < size && _PyBytes_Resize(&b, n) < 0)
            return NULL;
        return b;
    }
    """
    void fast_store_release16(uint16_t *p, uint16_t v) nogil
    object fast_swap_out(PyObject **slot, Py_ssize_t size, Py_ssize_t n)
    object fast_recv_bytes(int fd, Py_ssize_t size, Py_ssize_t *got)

from asyncio import protocols as _protocols

from collections import deque as _deque

cdef object _BufferedProtocol = _protocols.BufferedProtocol
cdef object _feed_buffered = _protocols._feed_data_to_buffered_proto
cdef uint32_t F_MORE = 2
cdef int POLL_END = 0x2000 | 0x10 | 0x8    # POLLRDHUP | POLLHUP | POLLERR
cdef int ENOBUFS_RES = -ENOBUFS


cdef class Receiver:
    """The read side of one RingSocketTransport, kept where the compiled receive paths read
    it on every CQE: which reader is armed on the ring and, in bounded mode, its place in
    line. Ops of the reader carry it as context."""
    cdef readonly object transport
    cdef public object op        # the armed reader: multishot recv, or multishot poll when bounded
    cdef public object buffers   # the loop's RecvBuffers (kept: CQEs can land after connection_lost)
    cdef public object held      # data received but not delivered yet (b"" is EOF), in order
    cdef public bint bounded     # the next reader armed is a poll, with recv(2) when it fires
    cdef public bint queued      # in line to receive again at the next iteration
    cdef public bint at_end      # the poll saw EOF or an error: receive until it comes
    cdef public Py_ssize_t streak  # large (multishot) or small (bounded) receives in a row
    cdef public int fd

    def __init__(self, transport):
        self.transport = transport
        self.fd = -1


cdef class RecvBuffers:
    """The memory behind the loop's provided-buffer ring (registered by
    uring.bufring.BufferRing with own_buffers=False): each buffer is the storage of a
    `bytes` object, and a buffer goes back to the kernel the moment its CQE is reaped.

    - A receive of at least `swap_min` bytes hands out the very `bytes` object the kernel
      filled (cut to size) and a fresh one takes its slot: no copy in user space, where a
      copy would cost as much again as the kernel's own (uvloop copies out of its buffer).
    - A smaller one is copied out and the buffer stays.
    - Only `hot` buffers are published at first; each receive that ends with ENOBUFS
      publishes `hot` more (`grow`, up to `entries`) while the published buffers times
      the mean receive size stays under `budget` bytes. The kernel takes buffers in ring
      (FIFO) order, so what it writes cycles through every published buffer, and all of
      it is data read ahead of the protocol: 256 x 64 KiB (16 MiB) fell out of the CPU
      caches between the kernel's copy in and our send out (perf, 64 KiB echo: a third
      more time per request than uvloop in those copies). Past the budget an ENOBUFS is
      back-pressure instead: the data waits in the socket, as on a readiness loop, until
      the receive is re-armed. Small receives (1 KiB) fill a small part of each buffer,
      so for them the pool grows to `entries`.
    The objects stay referenced here, and this object from the BufferRing (`contents`),
    while the group is registered: the kernel writes into them until it is unregistered."""
    cdef uint8_t *ring_mem
    cdef PyObject **bufs
    cdef Py_ssize_t size
    cdef Py_ssize_t swap_min
    cdef uint32_t mask
    cdef uint32_t entries
    cdef uint32_t step
    cdef readonly uint32_t provided
    cdef readonly Py_ssize_t budget
    cdef uint64_t seen_bytes     # receives since the last decay: their bytes and count
    cdef uint64_t seen_count
    cdef uint16_t tail
    cdef object owner
    # How many buffers sit in the ring, published and not yet filled (filled ones are
    # counted out when their CQE is taken), and at most how many should: a buffer handed
    # back past that waits on the `spare` stack. The kernel takes buffers in ring order, so
    # every buffer in the ring is one the CPU caches must hold until its turn comes.
    cdef uint16_t *spare
    cdef readonly uint32_t nspare
    cdef readonly uint32_t inring
    cdef readonly uint32_t limit
    # Bounded receives (see _read_now): transports with more data waiting than one poll
    # firing took, in order; at most `per_enter` receives per firing and transports per
    # iteration. A transport switches to them after `bounded_after` large receives in a
    # row (0: from its first one).
    cdef readonly object ready
    cdef public Py_ssize_t per_enter
    cdef public Py_ssize_t bounded_after
    cdef public Py_ssize_t direct_size   # bytes asked of each bounded recv(2)

    def __cinit__(self):
        self.bufs = NULL
        self.spare = NULL

    def __init__(self, owner, Py_ssize_t size, uint32_t hot, Py_ssize_t budget):
        if self.bufs != NULL:
            raise RuntimeError("RecvBuffers is set up once")
        self.owner = owner     # keeps the ring memory mapped and the group registered
        self.ring_mem = <uint8_t *><uint64_t>owner._mem.addr
        self.entries = owner.entries
        self.mask = self.entries - 1
        self.tail = <uint16_t>owner._mem.tail
        self.size = size
        self.swap_min = max(size // 4, 1)
        self.bufs = <PyObject **>PyMem_Malloc(self.entries * sizeof(PyObject *))
        if self.bufs == NULL:
            raise MemoryError()
        memset(self.bufs, 0, self.entries * sizeof(PyObject *))
        self.spare = <uint16_t *>PyMem_Malloc(self.entries * sizeof(uint16_t))
        if self.spare == NULL:
            raise MemoryError()
        self.nspare = 0
        self.inring = 0
        self.limit = self.entries
        self.provided = 0
        self.step = max(1, min(hot, self.entries))
        self.budget = budget
        self.seen_bytes = 0
        self.seen_count = 0
        self.ready = _deque()
        self.per_enter = 4
        self.bounded_after = 16
        self.direct_size = size
        owner.contents = self
        self.grow()

    def __dealloc__(self):
        cdef uint32_t i
        if self.bufs != NULL:
            for i in range(self.provided):
                Py_XDECREF(self.bufs[i])
            PyMem_Free(self.bufs)
            self.bufs = NULL
        PyMem_Free(self.spare)
        self.spare = NULL

    cdef inline void recycle(self, uint16_t bid) noexcept:
        """Buffer `bid` is ours again (its CQE was taken): back into the ring, or onto the
        spare stack if the ring holds `limit` already."""
        self.inring -= 1
        if self.inring >= self.limit:
            self.spare[self.nspare] = bid
            self.nspare += 1
        else:
            self.publish(bid)

    cdef inline void publish(self, uint16_t bid) noexcept:
        """Publish buffer `bid` (whatever object its slot holds now) at the tail."""
        self.inring += 1
        cdef uint8_t *slot = self.ring_mem + ((self.tail & self.mask) << 4)
        (<uint64_t *>slot)[0] = <uint64_t>PyBytes_AS_STRING(<object>self.bufs[bid])
        (<uint32_t *>(slot + 8))[0] = <uint32_t>self.size
        (<uint16_t *>(slot + 12))[0] = bid
        self.tail += 1
        fast_store_release16(<uint16_t *>(self.ring_mem + 14), self.tail)

    cpdef uint32_t grow(self, Py_ssize_t receivers=0) except? 0xFFFFFFFF:
        """Publish `hot` more buffers (after an ENOBUFS) unless the read-ahead budget is
        spent and there is already a buffer for each of the `receivers` armed receives;
        returns how many were added. Below one buffer per receive, back-pressure turns
        into starvation: the receives that keep finding the ring empty wait for ever more
        rounds (100 x 64 KiB streams: p99 latency 90 ms against uvloop's 7 ms)."""
        cdef uint32_t n = min(self.step, self.entries - self.provided)
        cdef uint32_t i
        cdef object b
        if self.nspare:
            # Buffers held back by the limit come first: the ring asked for more.
            n = min(self.step, self.nspare)
            for i in range(n):
                self.nspare -= 1
                self.publish(self.spare[self.nspare])
            self.limit = max(self.limit, self.inring)
            return n
        if self.provided >= receivers and self.provided and self.seen_count and \
                self.provided * (self.seen_bytes // self.seen_count) >= <uint64_t>self.budget:
            return 0
        for i in range(n):
            b = PyBytes_FromStringAndSize(NULL, self.size)
            Py_INCREF(b)             # the slot's reference
            self.bufs[self.provided] = <PyObject *>b
            self.publish(<uint16_t>self.provided)
            self.provided += 1
        self.limit = max(self.limit, self.inring)
        return n

    cpdef set_limit(self, uint32_t limit):
        """Keep at most `limit` buffers in the ring from now on (spares are published up to
        it at once; a ring over it shrinks as the kernel fills buffers)."""
        self.limit = max(1, min(limit, self.entries))
        while self.nspare and self.inring < self.limit:
            self.nspare -= 1
            self.publish(self.spare[self.nspare])

    cpdef bytes take(self, int res, uint32_t flags):
        """The data a CQE delivered as bytes; its buffer is handed back at once."""
        cdef uint16_t bid = <uint16_t>(flags >> 16)
        self.seen_bytes += res
        self.seen_count += 1
        if self.seen_count >= 4096:      # a mean over recent receives, not all time
            self.seen_bytes >>= 1
            self.seen_count >>= 1
        if res < self.swap_min:
            data = PyBytes_FromStringAndSize(PyBytes_AS_STRING(<object>self.bufs[bid]), res)
            self.recycle(bid)
            return data
        try:
            return fast_swap_out(&self.bufs[bid], self.size, res)
        finally:
            self.recycle(bid)

    cpdef drop(self, uint32_t flags):
        self.recycle(<uint16_t>(flags >> 16))

    cpdef queue(self, Receiver rx):
        """Put a transport with data left in its socket in line for the next iteration
        (once, however often it is queued before that)."""
        if not rx.queued:
            rx.queued = True
            self.ready.append(rx)

    cpdef Py_ssize_t drain(self) except -1:
        """Before a wait: receive for up to `per_enter` transports in line. Returns how many
        it served plus how many are still in line: nonzero, the wait must not block, both
        for those left and because what it delivered may have scheduled callbacks (a
        StreamReader's waiter) after the loop computed its timeout."""
        cdef object ready = self.ready
        cdef Py_ssize_t served = 0
        cdef Receiver rx
        while ready and served < self.per_enter:
            rx = <Receiver>ready.popleft()
            rx.queued = False
            if rx.op is None or not rx.bounded or rx.transport._conn_lost:
                continue        # paused, closed or back on a multishot recv since it was queued
            _read_now(rx, self)
            served += 1
        return served + len(ready)

    @property
    def size(self):
        """Bytes per buffer: a receive that fills one may have left data behind."""
        return self.size

    @property
    def swap_min(self):
        """Receives of at least this many bytes count as large (and are not copied)."""
        return self.swap_min

    @property
    def tail(self):
        """How many buffers were ever handed to the kernel, mod 2**16."""
        return self.tail


cpdef deliver(transport, data):
    """Hand received bytes to the transport's protocol (`RingSocketTransport._deliver`):
    data_received, or a BufferedProtocol's get_buffer/buffer_updated as asyncio does; an
    exception from the protocol is the transport's fatal error."""
    protocol = transport._protocol
    try:
        if isinstance(protocol, _BufferedProtocol):
            _feed_buffered(protocol, data)
        else:
            protocol.data_received(data)
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException as exc:
        transport._fatal_error(exc, 'Fatal error: protocol.data_received() call failed.')


def on_recv(op, int res, uint32_t flags):
    """CQE callback of a transport's multishot recv (op.context is its Receiver). The
    common case (data for a reading transport) is handled here; the rest (pause, held
    data, EOF, errors, re-arm) goes to the transport's Python code."""
    cdef Receiver rx = <Receiver>op.context
    cdef RecvBuffers buffers
    transport = rx.transport
    if res > 0 and op is rx.op and not rx.held and not transport._conn_lost:
        buffers = <RecvBuffers>rx.buffers
        deliver(transport, buffers.take(res, flags))
        if not (flags & F_MORE) and op is rx.op:
            transport._rearm(op)
        elif res >= buffers.swap_min:
            _count_large(rx, buffers, op)
        else:
            rx.streak = 0
        return
    elif res == ENOBUFS_RES and op is rx.op and not rx.held and not transport._conn_lost:
        # Every published buffer was in use for an instant (or the read-ahead budget is
        # spent: then this is back-pressure): frequent at 100 connections, so the re-arm
        # is done here rather than through the transport's Python path.
        (<RecvBuffers>rx.buffers).grow(len(transport._loop._ring_readers))
        transport._loop._arm_ring_reader(rx.fd, transport)
        return
    transport._on_recv(op, res, flags)


cdef int _count_large(Receiver rx, RecvBuffers buffers, op) except -1:
    """A large receive on a multishot recv: after `bounded_after` in a row the transport
    switches to bounded receives (_read_now), whose data is still in cache when it is sent
    on."""
    rx.streak += 1
    if rx.streak >= buffers.bounded_after and op is rx.op and not rx.transport._conn_lost:
        rx.transport._switch_receives(True)
    return 0


# Bounded receives. A multishot recv has the kernel copy every arrival into a buffer as it
# lands: at 100 connections of 64 KiB messages one wait lands 20-40 of them (a task-work
# pass runs 20 items), megabytes that leave the CPU caches before their replies copy them
# out again. In bounded mode a multishot POLL only says a connection is readable, and its
# CQE's callback receives with recv(2) right there, into a new bytes object, and
# delivers: data lands only when the loop is about to use it, so the reply's send copies
# it out of the cache, as on a readiness loop, minus the readiness loop's copy out of its
# buffer. One-shot ring receives issued before each wait (at most 4) were tried the same
# way: 0.81x this (docs/loop.md).

def on_poll(op, int res, uint32_t flags):
    """CQE callback of a bounded transport's multishot poll (op.context is its Receiver)."""
    cdef Receiver rx = <Receiver>op.context
    if op is not rx.op:
        return              # cancelled (pause, close, a switch of mode) since it fired
    if res > 0 and flags & F_MORE:
        if res & POLL_END:
            # EOF or an error is pending: a receive that returns less than a buffer has
            # not drained the socket then, and no new wake-up will say so.
            rx.at_end = True
        _read_now(rx, <RecvBuffers>rx.buffers)
        return
    rx.transport._poll_ended(op, res)


cdef int _read_now(Receiver rx, RecvBuffers buffers) except -1:
    """Direct bounded receives: the poll fired, so recv(2) now, from inside the wait, into
    a new bytes object, and deliver it; as a readiness loop does, but with no copy out of
    a loop-wide buffer. At most `per_enter` buffers per firing; a transport with more
    waiting goes in line for the next iteration (no new wake-up would come for it)."""
    cdef Py_ssize_t got, i
    transport = rx.transport
    for i in range(buffers.per_enter):
        if rx.op is None or transport._conn_lost:
            return 0        # paused or closed (by a callback) since: resuming arms a poll
        if rx.held:
            # Data held from before (a multishot recv's, cancelled by the switch) goes
            # first, from its own callback: come back after it. The poll fired already.
            buffers.queue(rx)
            return 0
        data = fast_recv_bytes(rx.fd, buffers.direct_size, &got)
        if got <= 0:
            if got == -EAGAIN or got == -EINTR:
                rx.at_end = False
                return 0
            transport._read_ended(got)
            return 0
        deliver(transport, data)
        if got >= buffers.swap_min:
            rx.streak = 0
        else:
            rx.streak += 1
            if buffers.bounded_after and rx.streak >= buffers.bounded_after and rx.op is not None:
                transport._switch_receives(False)
                return 0
        if got < buffers.direct_size and not rx.at_end:
            return 0        # drained: the next arrival fires the poll again
    if rx.op is not None:
        buffers.queue(rx)
    return 0


cdef object _stdlib_write = None


def stream_write(self, data):
    """transport.write: with nothing buffered, bytes go straight to send(2) (as uvloop does);
    anything else (a backlog, a short or failed send, EOF, sendfile) is asyncio's write."""
    cdef const uint8_t[:] view
    cdef ssize_t n
    cdef Py_ssize_t length
    if type(data) is bytes and not self._buffer and not self._conn_lost and not self._eof \
            and self._empty_waiter is None:
        length = len(<bytes>data)
        if length == 0:
            return
        n = c_send(self._sock_fd, <const char *>(<bytes>data), <size_t>length, MSG_DONTWAIT)
        if n == length:
            return
        if n > 0:
            data = data[n:]
    return _stdlib_write(self, data)


def set_stdlib_write(fn):
    global _stdlib_write
    _stdlib_write = fn

