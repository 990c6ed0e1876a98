# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The only code that touches ring memory: setup, mmap, SQE writing, io_uring_enter,
CQE reaping in batches, the op table and the pinning of in-flight buffers."""

cimport cython
from libc.stdint cimport uint8_t, uint16_t, uint32_t, int32_t, uint64_t, int64_t
from libc.string cimport memset, memcpy
from libc.stdlib cimport malloc, realloc, free
from libc.errno cimport errno, EINTR, EAGAIN, EBUSY, ETIME, EINVAL
from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_SIMPLE, PyBUF_WRITABLE
from cpython.ref cimport PyObject, Py_INCREF, Py_DECREF
from cpython.exc cimport PyErr_CheckSignals
from cpython.bytes cimport PyBytes_FromStringAndSize

import os as _os
import warnings as _warnings
from time import monotonic as _monotonic

from uring import errors as _errors

cdef extern from *:
    """
    #include <stdint.h>
    #include <unistd.h>
    #include <sys/syscall.h>
    #include <sys/mman.h>

    /* Layouts written from the documented kernel ABI (x86_64 sizes asserted below). */
    struct u_sqe {
        uint8_t  opcode; uint8_t flags; uint16_t ioprio; int32_t fd;
        uint64_t off; uint64_t addr; uint32_t len; uint32_t op_flags;
        uint64_t user_data; uint16_t buf_index; uint16_t personality;
        int32_t  file_index; uint64_t addr3; uint64_t pad2;
    };
    struct u_cqe { uint64_t user_data; int32_t res; uint32_t flags; };
    struct u_sq_off {
        uint32_t head, tail, ring_mask, ring_entries, flags, dropped, array, resv1;
        uint64_t user_addr;
    };
    struct u_cq_off {
        uint32_t head, tail, ring_mask, ring_entries, overflow, cqes, flags, resv1;
        uint64_t user_addr;
    };
    struct u_params {
        uint32_t sq_entries, cq_entries, flags, sq_thread_cpu, sq_thread_idle, features, wq_fd;
        uint32_t resv[3];
        struct u_sq_off sq_off;
        struct u_cq_off cq_off;
    };
    struct u_getevents_arg { uint64_t sigmask; uint32_t sigmask_sz; uint32_t min_wait_usec; uint64_t ts; };
    struct u_timespec { int64_t tv_sec; int64_t tv_nsec; };
    struct u_probe_op { uint8_t op; uint8_t resv; uint16_t flags; uint32_t resv2; };
    struct u_probe { uint8_t last_op; uint8_t ops_len; uint16_t resv; uint32_t resv2[3]; struct u_probe_op ops[256]; };

    _Static_assert(sizeof(struct u_sqe) == 64, "sqe size");
    _Static_assert(sizeof(struct u_cqe) == 16, "cqe size");
    _Static_assert(sizeof(struct u_params) == 120, "params size");
    _Static_assert(sizeof(struct u_getevents_arg) == 24, "getevents_arg size");

    static inline uint32_t u_load_acquire(const uint32_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
    static inline void u_store_release(uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
    static inline void u_full_barrier(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
    static inline void u_store_release16(uint16_t *p, uint16_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
    static void *u_mmap_anon(size_t len) {
        return mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    }
    static inline long u_setup(unsigned entries, struct u_params *p) { return syscall(425, entries, p); }
    static inline long u_enter(int fd, unsigned sub, unsigned minc, unsigned flags, void *arg, size_t sz) {
        return syscall(426, fd, sub, minc, flags, arg, sz);
    }
    static inline long u_register(int fd, unsigned op, void *arg, unsigned nr) { return syscall(427, fd, op, arg, nr); }
    static void *u_mmap(size_t len, int fd, uint64_t off) {
        return mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, (off_t)off);
    }
    #define U_MAP_FAILED MAP_FAILED
    """
    struct u_sqe:
        uint8_t opcode
        uint8_t flags
        uint16_t ioprio
        int32_t fd
        uint64_t off
        uint64_t addr
        uint32_t len
        uint32_t op_flags
        uint64_t user_data
        uint16_t buf_index
        uint16_t personality
        int32_t file_index
        uint64_t addr3
        uint64_t pad2
    struct u_cqe:
        uint64_t user_data
        int32_t res
        uint32_t flags
    struct u_sq_off:
        uint32_t head, tail, ring_mask, ring_entries, flags, dropped, array, resv1
        uint64_t user_addr
    struct u_cq_off:
        uint32_t head, tail, ring_mask, ring_entries, overflow, cqes, flags, resv1
        uint64_t user_addr
    struct u_params:
        uint32_t sq_entries, cq_entries, flags, sq_thread_cpu, sq_thread_idle, features, wq_fd
        u_sq_off sq_off
        u_cq_off cq_off
    struct u_getevents_arg:
        uint64_t sigmask
        uint32_t sigmask_sz
        uint32_t min_wait_usec
        uint64_t ts
    struct u_timespec:
        int64_t tv_sec
        int64_t tv_nsec
    struct u_probe_op:
        uint8_t op
        uint16_t flags
    struct u_probe:
        uint8_t last_op
        uint8_t ops_len
        u_probe_op ops[256]
    uint32_t u_load_acquire(const uint32_t *p) nogil
    void u_store_release(uint32_t *p, uint32_t v) nogil
    void u_full_barrier() nogil
    void u_store_release16(uint16_t *p, uint16_t v) nogil
    void *u_mmap_anon(size_t length) nogil
    long u_setup(unsigned entries, u_params *p) nogil
    long u_enter(int fd, unsigned sub, unsigned minc, unsigned flags, void *arg, size_t sz) nogil
    long u_register(int fd, unsigned op, void *arg, unsigned nr) nogil
    void *u_mmap(size_t length, int fd, uint64_t off) nogil
    void *U_MAP_FAILED
    int munmap(void *addr, size_t length) nogil
    int close(int fd) nogil

# Kernel values used by the core itself (the full ABI lives in _uapi.py).
cdef enum:
    OP_ACCEPT = 13
    OP_OPENAT = 18
    OP_OPENAT2 = 28
    OP_SOCKET = 45
    OP_FIXED_FD_INSTALL = 54
    OP_NOP = 0
    OP_READ_FIXED = 4
    OP_WRITE_FIXED = 5
    OP_ASYNC_CANCEL = 14
    OP_READ = 22
    OP_WRITE = 23
    SETUP_IOPOLL = 1
    SETUP_SQPOLL = 2
    SETUP_SQE128 = 1 << 10
    SETUP_CQE32 = 1 << 11
    SETUP_DEFER_TASKRUN = 1 << 13
    SETUP_NO_SQARRAY = 1 << 16
    FEAT_SINGLE_MMAP = 1
    FEAT_EXT_ARG = 1 << 8
    FEAT_MIN_TIMEOUT = 1 << 15
    ENTER_GETEVENTS = 1
    ENTER_SQ_WAKEUP = 2
    ENTER_SQ_WAIT = 4
    ENTER_EXT_ARG = 8
    SQ_NEED_WAKEUP = 1
    SQ_CQ_OVERFLOW = 2
    SQ_TASKRUN = 4
    IOSQE_IO_LINK = 4
    IOSQE_IO_HARDLINK = 8
    CQE_F_MORE = 2
    REGISTER_PROBE = 8
    CANCEL_ALL = 1
    CANCEL_ANY = 4
    OFF_CQ_RING = 0x8000000
    OFF_SQES = 0x10000000
    REAP_BATCH = 256
    ST_IN_FLIGHT = 0   # queued or submitted: the kernel may still touch its pins
    ST_DONE = 1        # final CQE seen

# user_data layout: generation (< 2**31) in the high 32 bits, slot index in the low 32,
# so an Op's user_data never has bit 63 set: INTERNAL_BIT alone tags the core's own
# cancel-all at close, and other bit-63 values are free for MSG_RING messages.
cdef uint64_t INTERNAL_BIT = 0x8000000000000000
cdef uint32_t GEN_MASK = 0x7FFFFFFF
cdef unsigned REAP_ALL = 0xFFFFFFFF


cdef int _fork_generation = 0

def _after_fork_in_child():
    global _fork_generation
    _fork_generation += 1

_os.register_at_fork(after_in_child=_after_fork_in_child)

# Pins of ops still in flight when a ring had to give up on them: kept forever rather
# than freed under the kernel's feet.
_abandoned = []


cdef inline uint64_t _as_offset(object offset) except? 0:
    """An offset for the SQE off field: -1 means "the file position" (kernel's (u64)-1)."""
    if type(offset) is not int and not isinstance(offset, int) or isinstance(offset, bool):
        raise TypeError(f"offset must be an int, got {type(offset).__name__}")
    if offset == -1:
        return <uint64_t>0xFFFFFFFFFFFFFFFF
    if offset < 0 or offset > 0x7FFFFFFFFFFFFFFF:
        raise ValueError(f"offset must be in 0..2**63-1 or -1 (current position), got {offset}")
    return <uint64_t>offset


cdef inline int64_t _nbytes(object nbytes) except? -2:
    """nbytes for a fast path: None (or -1) means the whole buffer."""
    if nbytes is None:
        return -1
    if type(nbytes) is not int and (not isinstance(nbytes, int) or isinstance(nbytes, bool)):
        raise TypeError(f"nbytes must be an int or None, got {type(nbytes).__name__}")
    if nbytes == -1:
        return -1
    if nbytes < 0:
        raise ValueError(f"nbytes must be >= 0, got {nbytes}")
    if nbytes > 0xFFFFFFFF:
        raise ValueError(f"nbytes={nbytes} exceeds the 32-bit SQE length")
    return <int64_t>nbytes


cdef class Pin:
    """Holds a buffer export of a Python object so its memory can neither move nor be
    freed while the kernel may touch it; released when the Pin is dropped."""
    cdef Py_buffer view
    cdef bint held

    def __cinit__(self, object obj, bint writable=False):
        cdef int flags = PyBUF_WRITABLE if writable else PyBUF_SIMPLE
        try:
            PyObject_GetBuffer(obj, &self.view, flags)
        except BufferError as exc:
            raise TypeError(f"a {'writable ' if writable else ''}contiguous buffer is required, "
                            f"got {type(obj).__name__}: {exc}") from None
        except TypeError:
            raise TypeError(f"a bytes-like object is required, got {type(obj).__name__}") from None
        self.held = True

    def __dealloc__(self):
        if self.held:
            PyBuffer_Release(&self.view)
            self.held = False

    @property
    def addr(self) -> int:
        return <uint64_t>self.view.buf

    @property
    def nbytes(self) -> int:
        return self.view.len

    @property
    def obj(self):
        return self.view.obj


cdef class Sqe:
    """One submission queue entry as a value: 64 bytes (128 with SQE128) plus the Python
    objects the kernel will dereference through it. Filled by the prep helpers in `ops`."""
    cdef u_sqe s
    cdef uint8_t ext[64]
    cdef public list pins
    cdef public bint big
    cdef public object context
    cdef public object out

    def __cinit__(self):
        memset(&self.s, 0, sizeof(u_sqe))
        memset(self.ext, 0, 64)
        self.pins = []
        self.big = False

    def set(self, *, flags=None, ioprio=None, personality=None, buf_group=None, file_index=None,
            context=None) -> Sqe:
        """Set the fields common to every op; returns self so calls chain.
        `flags` are IOSQE_* bits OR-ed into what the prep helper set; `context` is any
        Python object, handed back as Op.context (the kernel's user_data is ours)."""
        if flags is not None:
            if flags < 0 or flags > 0x7F:
                raise ValueError(f"invalid IOSQE flags {flags!r}")
            self.s.flags |= <uint8_t>flags
        if ioprio is not None:
            self.s.ioprio = <uint16_t>ioprio
        if personality is not None:
            self.s.personality = <uint16_t>personality
        if buf_group is not None:
            self.s.buf_index = <uint16_t>buf_group
            self.s.flags |= 32  # IOSQE_BUFFER_SELECT: a buffer group means the kernel picks
        if file_index is not None:
            self.s.file_index = <int32_t>file_index
        if context is not None:
            self.context = context
        return self

    def pin(self, obj, bint writable=False) -> Pin:
        """Pin `obj` for the op's lifetime and return the Pin (its .addr goes in the SQE)."""
        cdef Pin p = Pin(obj, writable)
        self.pins.append(p)
        return p

    def keep(self, obj):
        """Keep a Python object alive for the op's lifetime (a ctypes struct, a list)."""
        self.pins.append(obj)

    def __bytes__(self):
        cdef uint8_t buf[128]
        memcpy(buf, &self.s, 64)
        memcpy(buf + 64, self.ext, 64)
        return PyBytes_FromStringAndSize(<char *>buf, 128 if self.big else 64)

    def set_cmd(self, bytes data):
        """Write the command area (uring_cmd): 16 bytes, or 80 with SQE128."""
        cdef Py_ssize_t n = len(data)
        if n > 80:
            raise ValueError("uring_cmd payload is at most 80 bytes (SQE128)")
        if n > 16:
            self.big = True
        cdef uint8_t buf[80]
        memset(buf, 0, 80)
        memcpy(buf, <char *>data, n)
        memcpy(&self.s.addr3, buf, 16)
        memcpy(self.ext, buf + 16, 64)

    property opcode:
        def __get__(self): return self.s.opcode
        def __set__(self, uint8_t v): self.s.opcode = v
    property flags:
        def __get__(self): return self.s.flags
        def __set__(self, uint8_t v): self.s.flags = v
    property ioprio:
        def __get__(self): return self.s.ioprio
        def __set__(self, uint16_t v): self.s.ioprio = v
    property fd:
        def __get__(self): return self.s.fd
        def __set__(self, int32_t v): self.s.fd = v
    property off:
        def __get__(self): return self.s.off
        def __set__(self, uint64_t v): self.s.off = v
    property addr2:
        def __get__(self): return self.s.off
        def __set__(self, uint64_t v): self.s.off = v
    property addr:
        def __get__(self): return self.s.addr
        def __set__(self, uint64_t v): self.s.addr = v
    property len:
        def __get__(self): return self.s.len
        def __set__(self, uint32_t v): self.s.len = v
    property op_flags:
        def __get__(self): return self.s.op_flags
        def __set__(self, uint32_t v): self.s.op_flags = v
    property user_data:
        def __get__(self): return self.s.user_data
        def __set__(self, uint64_t v): self.s.user_data = v
    property buf_index:
        def __get__(self): return self.s.buf_index
        def __set__(self, uint16_t v): self.s.buf_index = v
    property buf_group:
        def __get__(self): return self.s.buf_index
        def __set__(self, uint16_t v): self.s.buf_index = v
    property personality:
        def __get__(self): return self.s.personality
        def __set__(self, uint16_t v): self.s.personality = v
    property file_index:
        def __get__(self): return self.s.file_index
        def __set__(self, int32_t v): self.s.file_index = v
    property splice_fd_in:
        def __get__(self): return self.s.file_index
        def __set__(self, int32_t v): self.s.file_index = v
    property addr3:
        def __get__(self): return self.s.addr3
        def __set__(self, uint64_t v): self.s.addr3 = v


# Not GC-tracked: ops are created and freed at NOP rates, and a tracked object would make
# every gen-0 collection walk all ops in flight. Cycles through .callback are broken at the
# final CQE; .context must not refer back to its own op.
@cython.freelist(512)
@cython.no_gc
cdef class Op:
    """One submitted operation: ends with a result or an exception. Owns the pins of
    everything the kernel may touch until its final CQE (the one without F_MORE)."""
    cdef readonly uint64_t user_data
    cdef readonly uint8_t opcode
    cdef uint8_t state
    cdef readonly uint8_t sqe_flags
    cdef int32_t _res
    cdef uint32_t _flags
    cdef Py_buffer view
    cdef bint has_view
    cdef object _buffer
    cdef object pins
    cdef object _more
    cdef public object callback
    cdef public object context
    cdef public object cancel_reason
    cdef readonly object out
    cdef bint creates_fd
    cdef readonly int discarded_fd
    # The SQE's fd (for cancel-by-fd bookkeeping) and what a fast-path read/write needs
    # to be queued again by Ring.requeue.
    cdef readonly int32_t fd
    cdef uint32_t length
    cdef int32_t buf_index

    # No __dealloc__: an Op only holds a buffer view while it sits in a ring's table, and
    # every way out of the table releases it (final CQE, _unqueue_last, RingCore dealloc);
    # a Cython __dealloc__ would cost every NOP an error-state save/restore.

    cdef inline void _release_pins(self):
        if self.has_view:
            self._buffer = <object>self.view.obj
            PyBuffer_Release(&self.view)
            self.has_view = False
        self.pins = None

    @property
    def done(self) -> bool:
        return self.state == ST_DONE

    @property
    def pinned(self) -> bool:
        """True while the op still holds buffers on the kernel's behalf."""
        return self.has_view or self.pins is not None

    @property
    def res(self):
        """The raw CQE res of the final completion (negative errno on failure)."""
        if self.state != ST_DONE:
            raise _errors.NotDone(f"{self._name()} has not completed")
        return self._res

    @property
    def cqe_flags(self) -> int:
        return self._flags

    @property
    def buffer(self):
        """The buffer object passed to a read/write fast path (still pinned until done)."""
        if self.has_view:
            return <object>self.view.obj
        return self._buffer

    @property
    def buffer_id(self):
        """The provided-buffer id from the final CQE (F_BUFFER), or None."""
        if self._flags & 1:
            return self._flags >> 16
        return None

    @property
    def result(self):
        """The op's result; raises its error (an OSError subclass) if it failed."""
        if self.state != ST_DONE:
            raise _errors.NotDone(f"{self._name()} has not completed")
        if self._res < 0:
            raise self.exception()
        return self._res

    def exception(self):
        """The exception for a failed op, or None."""
        if self.state != ST_DONE:
            raise _errors.NotDone(f"{self._name()} has not completed")
        if self._res >= 0:
            return None
        return _errors.error_for(-self._res, self)

    def take_cqes(self) -> list:
        """(res, flags) of the CQEs posted with F_MORE so far (multishot, zero-copy), cleared."""
        more = self._more
        self._more = None
        return more if more is not None else []

    def _name(self):
        return _errors.opcode_name(self.opcode)

    def __repr__(self):
        state = "done" if self.state == ST_DONE else "in flight"
        extra = f" res={self._res}" if self.state == ST_DONE else ""
        return f"<Op {self._name()} {state}{extra} user_data={self.user_data:#x}>"


cdef inline void _fill_rw(u_sqe *sqe, uint8_t opcode, int32_t fd, uint64_t addr, uint32_t length,
                          uint64_t offset) noexcept nogil:
    memset(sqe, 0, sizeof(u_sqe))
    sqe.opcode = opcode
    sqe.fd = fd
    sqe.addr = addr
    sqe.len = length
    sqe.off = offset


cdef class BufRingMemory:
    """The shared memory of a provided-buffer ring (IORING_REGISTER_PBUF_RING): `entries`
    16-byte {addr, len, bid} slots the kernel picks from, and the 16-bit tail we publish."""
    cdef uint8_t *mem
    cdef size_t size
    cdef readonly uint32_t entries
    cdef readonly uint32_t mask
    cdef uint16_t local_tail

    def __cinit__(self, uint32_t entries):
        if entries == 0 or entries > 32768 or (entries & (entries - 1)):
            raise ValueError(f"buffer ring entries must be a power of two in 1..32768, got {entries}")
        self.size = entries * 16
        if self.size < 4096:
            self.size = 4096
        self.mem = <uint8_t *>u_mmap_anon(self.size)
        if <void *>self.mem == U_MAP_FAILED:
            self.mem = NULL
            raise MemoryError("mmap of the buffer ring failed")
        self.entries = entries
        self.mask = entries - 1
        self.local_tail = 0

    def __dealloc__(self):
        if self.mem != NULL:
            munmap(self.mem, self.size)
            self.mem = NULL

    @property
    def addr(self) -> int:
        return <uint64_t>self.mem

    @property
    def tail(self) -> int:
        return self.local_tail

    def add(self, uint64_t addr, uint32_t length, uint16_t bid, int offset=0):
        """Write a buffer into slot (tail + offset) & mask; visible after advance()."""
        cdef uint8_t *slot = self.mem + (((self.local_tail + offset) & self.mask) << 4)
        (<uint64_t *>slot)[0] = addr
        (<uint32_t *>(slot + 8))[0] = length
        (<uint16_t *>(slot + 12))[0] = bid
        # bytes 14..15 of slot 0 are the shared tail: never written here

    def advance(self, int count):
        """Publish `count` added buffers to the kernel (release store of the tail)."""
        self.local_tail = <uint16_t>(self.local_tail + count)
        u_store_release16(<uint16_t *>(self.mem + 14), self.local_tail)


cdef class RingCore:
    """Ring memory and the io_uring_enter/register syscalls. Use uring.Ring."""
    cdef readonly int fd
    cdef readonly uint32_t sq_entries
    cdef readonly uint32_t cq_entries
    cdef readonly uint32_t setup_flags
    cdef readonly uint32_t features
    cdef readonly uint32_t sq_thread_cpu
    cdef readonly uint32_t sq_thread_idle
    cdef int fork_gen
    cdef bint closing
    # SQ
    cdef void *sq_ring_ptr
    cdef size_t sq_ring_sz
    cdef void *cq_ring_ptr
    cdef size_t cq_ring_sz
    cdef uint8_t *sqes
    cdef size_t sqes_sz
    cdef uint32_t *sq_khead
    cdef uint32_t *sq_ktail
    cdef uint32_t *sq_kflags
    cdef uint32_t *sq_kdropped
    cdef uint32_t sq_mask
    cdef uint32_t sqe_tail
    cdef uint32_t sqe_shift
    cdef uint8_t *last_sqe_flags
    # CQ
    cdef uint32_t *cq_khead
    cdef uint32_t *cq_ktail
    cdef uint32_t *cq_koverflow
    cdef uint32_t *cq_kflags
    cdef uint8_t *cqes
    cdef uint32_t cq_mask
    cdef uint32_t cqe_shift
    # op table
    cdef PyObject **slots
    cdef uint32_t *gens
    cdef uint32_t *free_slots
    cdef uint32_t nfree
    cdef uint32_t cap
    cdef readonly uint32_t in_flight
    cdef readonly uint64_t stale_cqes
    # probe
    cdef uint8_t supported[256]
    cdef readonly int last_op
    cdef public object completions
    cdef public object foreign_cqe_handler

    def __cinit__(self):
        self.fd = -1
        self.slots = NULL
        self.gens = NULL
        self.free_slots = NULL
        self.sq_ring_ptr = NULL
        self.cq_ring_ptr = NULL
        self.sqes = NULL

    def __init__(self, unsigned entries=128, *, unsigned flags=0, cq_entries=None,
                 sq_thread_cpu=None, sq_thread_idle=None, wq_fd=None, bint no_sqarray=True):
        cdef u_params p
        cdef long ret
        cdef int err
        cdef unsigned want_flags = flags
        if self.fd >= 0:
            raise RuntimeError("ring already initialised")
        if entries == 0:
            raise ValueError("entries must be >= 1")
        if entries > 32768:
            raise ValueError(f"entries must be <= 32768, got {entries}")
        memset(&p, 0, sizeof(u_params))
        if cq_entries is not None:
            p.cq_entries = cq_entries
            want_flags |= 8  # IORING_SETUP_CQSIZE
        if sq_thread_cpu is not None:
            p.sq_thread_cpu = sq_thread_cpu
            want_flags |= 4  # IORING_SETUP_SQ_AFF
        if sq_thread_idle is not None:
            p.sq_thread_idle = sq_thread_idle
        if wq_fd is not None:
            p.wq_fd = wq_fd
            want_flags |= 32  # IORING_SETUP_ATTACH_WQ
        # As liburing does: ask for NO_SQARRAY first, fall back where the kernel lacks it.
        p.flags = want_flags | (SETUP_NO_SQARRAY if no_sqarray else 0)
        with nogil:
            ret = u_setup(entries, &p)
            err = errno
        if ret < 0 and err == EINVAL and no_sqarray and not (want_flags & SETUP_NO_SQARRAY):
            memset(&p.sq_off, 0, sizeof(u_sq_off))
            memset(&p.cq_off, 0, sizeof(u_cq_off))
            p.flags = want_flags
            with nogil:
                ret = u_setup(entries, &p)
                err = errno
        if ret < 0:
            raise _errors.setup_error(err, want_flags)
        self.fd = <int>ret
        self.setup_flags = p.flags
        self.features = p.features
        self.sq_thread_cpu = p.sq_thread_cpu
        self.sq_thread_idle = p.sq_thread_idle
        try:
            self._map(&p)
            self._grow_table(64)
            self._load_probe()
        except BaseException:
            self._unmap_and_close()
            raise
        self.fork_gen = _fork_generation
        self.completions = None

    cdef int _map(self, u_params *p) except -1:
        cdef size_t cqe_size = 32 if (p.flags & SETUP_CQE32) else 16
        self.sqe_shift = 1 if (p.flags & SETUP_SQE128) else 0
        self.cqe_shift = 1 if (p.flags & SETUP_CQE32) else 0
        # With NO_SQARRAY sq_off.array is 0 and the SQ header lives in the shared
        # rings region, which the (larger) CQ size covers under SINGLE_MMAP.
        self.sq_ring_sz = p.sq_off.array + p.sq_entries * 4
        self.cq_ring_sz = p.cq_off.cqes + p.cq_entries * cqe_size
        if p.features & FEAT_SINGLE_MMAP:
            if self.cq_ring_sz > self.sq_ring_sz:
                self.sq_ring_sz = self.cq_ring_sz
            self.cq_ring_sz = self.sq_ring_sz
        self.sq_ring_ptr = u_mmap(self.sq_ring_sz, self.fd, 0)
        if self.sq_ring_ptr == U_MAP_FAILED:
            self.sq_ring_ptr = NULL
            raise OSError(errno, "mmap of the SQ ring failed: " + _os.strerror(errno))
        if p.features & FEAT_SINGLE_MMAP:
            self.cq_ring_ptr = self.sq_ring_ptr
        else:
            self.cq_ring_ptr = u_mmap(self.cq_ring_sz, self.fd, OFF_CQ_RING)
            if self.cq_ring_ptr == U_MAP_FAILED:
                self.cq_ring_ptr = NULL
                raise OSError(errno, "mmap of the CQ ring failed: " + _os.strerror(errno))
        self.sqes_sz = p.sq_entries * (64 << self.sqe_shift)
        self.sqes = <uint8_t *>u_mmap(self.sqes_sz, self.fd, OFF_SQES)
        if <void *>self.sqes == U_MAP_FAILED:
            self.sqes = NULL
            raise OSError(errno, "mmap of the SQE array failed: " + _os.strerror(errno))
        cdef uint8_t *sq = <uint8_t *>self.sq_ring_ptr
        cdef uint8_t *cq = <uint8_t *>self.cq_ring_ptr
        self.sq_khead = <uint32_t *>(sq + p.sq_off.head)
        self.sq_ktail = <uint32_t *>(sq + p.sq_off.tail)
        self.sq_kflags = <uint32_t *>(sq + p.sq_off.flags)
        self.sq_kdropped = <uint32_t *>(sq + p.sq_off.dropped)
        self.sq_mask = (<uint32_t *>(sq + p.sq_off.ring_mask))[0]
        self.sq_entries = (<uint32_t *>(sq + p.sq_off.ring_entries))[0]
        self.cq_khead = <uint32_t *>(cq + p.cq_off.head)
        self.cq_ktail = <uint32_t *>(cq + p.cq_off.tail)
        self.cq_koverflow = <uint32_t *>(cq + p.cq_off.overflow)
        self.cq_kflags = <uint32_t *>(cq + p.cq_off.flags) if p.cq_off.flags else NULL
        self.cqes = cq + p.cq_off.cqes
        self.cq_mask = (<uint32_t *>(cq + p.cq_off.ring_mask))[0]
        self.cq_entries = (<uint32_t *>(cq + p.cq_off.ring_entries))[0]
        cdef uint32_t i
        cdef uint32_t *array
        if not (p.flags & SETUP_NO_SQARRAY):
            # Identity index map, written once: we always fill SQEs in ring order.
            array = <uint32_t *>(sq + p.sq_off.array)
            for i in range(self.sq_entries):
                array[i] = i
        self.sqe_tail = self.sq_ktail[0]
        self.last_sqe_flags = NULL
        return 0

    cdef int _load_probe(self) except -1:
        cdef u_probe *probe = <u_probe *>malloc(sizeof(u_probe))
        cdef long ret
        cdef int i
        if probe == NULL:
            raise MemoryError()
        memset(probe, 0, sizeof(u_probe))
        memset(self.supported, 0, 256)
        with nogil:
            ret = u_register(self.fd, REGISTER_PROBE, probe, 256)
        if ret < 0:
            # Kernels before 5.6 have no probe; assume what 5.1 had.
            for i in range(OP_ASYNC_CANCEL):
                self.supported[i] = 1
            self.last_op = OP_ASYNC_CANCEL - 1
        else:
            self.last_op = probe.last_op
            for i in range(min(<int>probe.ops_len, 256)):
                self.supported[probe.ops[i].op] = (probe.ops[i].flags & 1)
        free(probe)
        return 0

    cdef int _grow_table(self, uint32_t newcap) except -1:
        cdef uint32_t i
        cdef PyObject **slots = <PyObject **>realloc(self.slots, newcap * sizeof(PyObject *))
        if slots == NULL:
            raise MemoryError()
        self.slots = slots
        cdef uint32_t *gens = <uint32_t *>realloc(self.gens, newcap * sizeof(uint32_t))
        if gens == NULL:
            raise MemoryError()
        self.gens = gens
        cdef uint32_t *free_slots = <uint32_t *>realloc(self.free_slots, newcap * sizeof(uint32_t))
        if free_slots == NULL:
            raise MemoryError()
        self.free_slots = free_slots
        # Push new slots so that the lowest index is handed out first.
        cdef int64_t j = <int64_t>newcap - 1
        while j >= <int64_t>self.cap:
            self.slots[j] = NULL
            self.gens[j] = 1
            self.free_slots[self.nfree] = <uint32_t>j
            self.nfree += 1
            j -= 1
        self.cap = newcap
        return 0

    # -- checks -------------------------------------------------------------------

    cdef inline int _check(self) except -1:
        if self.fd < 0:
            raise _errors.RingClosed("the ring is closed")
        if self.fork_gen != _fork_generation:
            raise _errors.RingForked("this ring belongs to the parent process; create a new Ring after fork()")
        return 0

    cdef inline int _check_opcode(self, uint8_t opcode) except -1:
        if not self.supported[opcode]:
            raise _errors.unsupported_opcode(opcode)
        return 0

    def opcode_supported(self, int opcode) -> bool:
        """Whether the running kernel accepts this opcode (IORING_REGISTER_PROBE)."""
        if opcode < 0 or opcode > 255:
            return False
        return bool(self.supported[opcode])

    # -- SQ side ------------------------------------------------------------------

    cpdef unsigned sq_space_left(self):
        """Free SQ slots right now (without submitting)."""
        self._check()
        return self.sq_entries - (self.sqe_tail - u_load_acquire(self.sq_khead))

    cpdef unsigned sq_ready(self):
        """SQEs written but not yet consumed by the kernel."""
        self._check()
        return self.sqe_tail - u_load_acquire(self.sq_khead)

    cdef u_sqe *_next_sqe(self) except NULL:
        cdef uint32_t head = u_load_acquire(self.sq_khead)
        if self.sqe_tail - head >= self.sq_entries:
            if self.last_sqe_flags != NULL and (self.last_sqe_flags[0] & (IOSQE_IO_LINK | IOSQE_IO_HARDLINK)):
                raise _errors.SubmissionQueueFull(
                    f"the SQ ({self.sq_entries} entries) is full in the middle of a linked chain; "
                    "a chain cannot span two submits: use a larger ring or Ring.chain()")
            self._make_room()
            head = u_load_acquire(self.sq_khead)
        cdef u_sqe *sqe = <u_sqe *>(self.sqes + ((self.sqe_tail & self.sq_mask) << (6 + self.sqe_shift)))
        self.sqe_tail += 1
        self.last_sqe_flags = &sqe.flags
        return sqe

    cdef int _make_room(self) except -1:
        """The SQ is full: hand what is queued to the kernel so slots free up."""
        cdef int tries = 0
        while self.sqe_tail - u_load_acquire(self.sq_khead) >= self.sq_entries:
            # Publishes the tail (and wakes an idle SQ thread): nothing frees before that.
            self._submit(0, 0)
            if (self.setup_flags & SETUP_SQPOLL and
                    self.sqe_tail - u_load_acquire(self.sq_khead) >= self.sq_entries):
                # The SQ thread frees slots as it consumes; wait for it to do so.
                self._enter(0, 0, ENTER_SQ_WAIT, NULL, 0)
            tries += 1
            if tries > 1000:
                raise _errors.SubmissionQueueFull(
                    f"the SQ ({self.sq_entries} entries) is full and the kernel consumes nothing")
        return 0

    cpdef int reserve(self, unsigned n) except -1:
        """Make sure `n` SQEs can be written without an intermediate submit (for chains)."""
        self._check()
        if n > self.sq_entries:
            raise _errors.SubmissionQueueFull(
                f"{n} linked SQEs cannot fit a {self.sq_entries}-entry SQ; a chain cannot span submits")
        if self.sq_entries - (self.sqe_tail - u_load_acquire(self.sq_khead)) < n:
            self.last_sqe_flags = NULL
            self._submit(0, 0)
            while self.sq_entries - (self.sqe_tail - u_load_acquire(self.sq_khead)) < n:
                self._make_room()
        return 0

    cdef inline Op _new_op(self, uint8_t opcode, u_sqe *sqe):
        cdef Op op = Op.__new__(Op)
        self._enlist(op, opcode, sqe)
        return op

    cdef inline void _enlist(self, Op op, uint8_t opcode, u_sqe *sqe) except *:
        """Give `op` a table slot (and its user_data) for the SQE just taken."""
        cdef uint32_t slot
        if self.nfree == 0:
            self._grow_table(self.cap * 2)
        self.nfree -= 1
        slot = self.free_slots[self.nfree]
        op.user_data = (<uint64_t>self.gens[slot] << 32) | slot
        op.opcode = opcode
        sqe.user_data = op.user_data
        Py_INCREF(op)
        self.slots[slot] = <PyObject *>op
        self.in_flight += 1

    cdef inline void _retire(self, Op op) noexcept:
        """Give back the op's slot; the caller owns the table's reference afterwards."""
        cdef uint32_t slot = <uint32_t>op.user_data
        self.slots[slot] = NULL
        cdef uint32_t gen = self.gens[slot] + 1
        self.gens[slot] = gen if gen <= GEN_MASK else 1  # a branch, not a division per op
        self.free_slots[self.nfree] = slot
        self.nfree += 1
        self.in_flight -= 1

    cdef inline void _unqueue_last(self, Op op) noexcept:
        """Undo the SQE just taken for `op` (its buffer could not be pinned)."""
        self.sqe_tail -= 1
        self.last_sqe_flags = NULL
        self._retire(op)
        op._release_pins()
        Py_DECREF(op)

    def queue(self, Sqe sqe not None):
        """Copy a prepared SQE into the SQ and return its Op (not yet submitted)."""
        self._check()
        self._check_opcode(sqe.s.opcode)
        if sqe.big and not self.sqe_shift:
            raise _errors.UnsupportedFeature(
                f"{_errors.opcode_name(sqe.s.opcode)} needs a 128-byte SQE: create the ring with IORING_SETUP_SQE128")
        cdef u_sqe *dst = self._next_sqe()
        memcpy(dst, &sqe.s, 64)
        if self.sqe_shift:
            memcpy((<uint8_t *>dst) + 64, sqe.ext, 64)
        cdef Op op = self._new_op(sqe.s.opcode, dst)
        op.sqe_flags = sqe.s.flags
        if sqe.pins:
            op.pins = sqe.pins
        op.context = sqe.context
        op.out = sqe.out
        op.fd = sqe.s.fd
        # Only a regular (non-direct) fd lands in our process's table and can leak.
        op.creates_fd = ((sqe.s.opcode == OP_ACCEPT or sqe.s.opcode == OP_OPENAT or
                          sqe.s.opcode == OP_OPENAT2 or sqe.s.opcode == OP_SOCKET) and sqe.s.file_index == 0) \
            or sqe.s.opcode == OP_FIXED_FD_INSTALL
        op.discarded_fd = -1
        return op

    # Fast paths for the hot opcodes: no Sqe object, the SQE is written in place.

    def nop(self, uint8_t sqe_flags=0):
        """Queue IORING_OP_NOP (sqe_flags: IOSQE_* bits)."""
        self._check()
        cdef u_sqe *sqe = self._next_sqe()
        memset(sqe, 0, sizeof(u_sqe))
        sqe.fd = -1
        sqe.flags = sqe_flags
        cdef Op op = self._new_op(OP_NOP, sqe)
        op.sqe_flags = sqe_flags
        op.fd = -1
        return op

    cdef inline Op _buffer_op(self, uint8_t opcode, int32_t fd, object buf, object offset,
                              int64_t nbytes, bint writable, uint8_t flags, int buf_index):
        self._check()
        self._check_opcode(opcode)
        cdef uint64_t off = _as_offset(offset)
        cdef u_sqe *sqe = self._next_sqe()
        cdef Op op = self._new_op(opcode, sqe)
        try:
            PyObject_GetBuffer(buf, &op.view, PyBUF_WRITABLE if writable else PyBUF_SIMPLE)
        except (BufferError, TypeError) as exc:
            self._unqueue_last(op)
            raise TypeError(f"{_errors.opcode_name(opcode)} needs a {'writable ' if writable else ''}"
                            f"contiguous buffer, got {type(buf).__name__}") from None
        op.has_view = True
        if nbytes < 0:
            nbytes = op.view.len
        elif nbytes > op.view.len:
            self._unqueue_last(op)
            raise ValueError(f"nbytes={nbytes} exceeds the buffer's {op.view.len} bytes")
        if nbytes > <int64_t>4294967295LL:
            self._unqueue_last(op)
            raise ValueError(f"nbytes={nbytes} exceeds the 32-bit SQE length")
        _fill_rw(sqe, opcode, fd, <uint64_t>op.view.buf, <uint32_t>nbytes, off)
        sqe.flags = flags
        sqe.user_data = op.user_data
        op.sqe_flags = flags
        op.fd = fd
        op.length = <uint32_t>nbytes
        op.buf_index = buf_index
        if buf_index >= 0:
            sqe.buf_index = <uint16_t>buf_index
        return op

    def requeue(self, Op op not None, offset=0):
        """Queue a completed fast-path read/write (read, write, read_fixed, write_fixed) again
        with the same fd, buffer, length and flags at `offset`, reusing the Op object: a
        loop that keeps a fixed set of buffers in flight skips building a new op each time."""
        self._check()
        if op.state != ST_DONE:
            raise ValueError(f"{op._name()} is still in flight; only a completed op can be queued again")
        if op._buffer is None or not (op.opcode == OP_READ or op.opcode == OP_WRITE or
                                      op.opcode == OP_READ_FIXED or op.opcode == OP_WRITE_FIXED):
            raise ValueError("only ops from ring.read/write/read_fixed/write_fixed can be queued again")
        cdef uint64_t off = _as_offset(offset)
        cdef bint writable = op.opcode == OP_READ or op.opcode == OP_READ_FIXED
        PyObject_GetBuffer(op._buffer, &op.view, PyBUF_WRITABLE if writable else PyBUF_SIMPLE)
        op.has_view = True
        if op.view.len < op.length:
            op._release_pins()
            raise ValueError(f"the buffer shrank below the op's {op.length} bytes")
        cdef u_sqe *sqe
        try:
            sqe = self._next_sqe()
        except BaseException:
            op._release_pins()
            raise
        op._buffer = None
        op._more = None
        op.state = ST_IN_FLIGHT
        op._res = 0
        op._flags = 0
        self._enlist(op, op.opcode, sqe)
        _fill_rw(sqe, op.opcode, op.fd, <uint64_t>op.view.buf, op.length, off)
        sqe.flags = op.sqe_flags
        sqe.user_data = op.user_data
        if op.buf_index >= 0:
            sqe.buf_index = <uint16_t>op.buf_index
        return op

    def read(self, int fd, buf, nbytes=None, offset=0, uint8_t sqe_flags=0):
        """Queue IORING_OP_READ into a writable buffer; liburing's order (fd, buf, nbytes,
        offset); nbytes None means the whole buffer, offset -1 the file position."""
        return self._buffer_op(OP_READ, fd, buf, offset, _nbytes(nbytes), True, sqe_flags, -1)

    def write(self, int fd, buf, nbytes=None, offset=0, uint8_t sqe_flags=0):
        """Queue IORING_OP_WRITE from a bytes-like buffer (fd, buf, nbytes, offset)."""
        return self._buffer_op(OP_WRITE, fd, buf, offset, _nbytes(nbytes), False, sqe_flags, -1)

    def read_fixed(self, int fd, buf, nbytes, offset, int buf_index, uint8_t sqe_flags=0):
        """Queue IORING_OP_READ_FIXED into (a slice of) registered buffer `buf_index`."""
        if buf_index < 0 or buf_index > 0xFFFF:
            raise ValueError(f"buf_index out of range: {buf_index}")
        return self._buffer_op(OP_READ_FIXED, fd, buf, offset, _nbytes(nbytes), True, sqe_flags, buf_index)

    def write_fixed(self, int fd, buf, nbytes, offset, int buf_index, uint8_t sqe_flags=0):
        """Queue IORING_OP_WRITE_FIXED from (a slice of) registered buffer `buf_index`."""
        if buf_index < 0 or buf_index > 0xFFFF:
            raise ValueError(f"buf_index out of range: {buf_index}")
        return self._buffer_op(OP_WRITE_FIXED, fd, buf, offset, _nbytes(nbytes), False, sqe_flags, buf_index)

    def _peek_sqe(self, unsigned back=1):
        """Bytes of the SQE written `back` entries ago (for golden tests of the fast paths)."""
        cdef uint32_t idx = (self.sqe_tail - back) & self.sq_mask
        return PyBytes_FromStringAndSize(<char *>(self.sqes + (idx << (6 + self.sqe_shift))), 64 << self.sqe_shift)

    # -- entering the kernel --------------------------------------------------------

    cdef long _enter(self, unsigned to_submit, unsigned min_complete, unsigned flags,
                     void *arg, size_t argsz) except? -2:
        """io_uring_enter with the GIL released. Returns -1 on ETIME, raises otherwise."""
        cdef long ret
        cdef int err
        cdef int fd = self.fd
        while True:
            with nogil:
                ret = u_enter(fd, to_submit, min_complete, flags, arg, argsz)
                err = errno
            if ret >= 0:
                if min_complete:
                    # A wait cut short by a signal still returns the submitted count when
                    # it also submitted: the handler must run (and may raise) here.
                    PyErr_CheckSignals()
                return ret
            if err == EINTR:
                PyErr_CheckSignals()   # lets KeyboardInterrupt out; otherwise retry
                continue
            if err == ETIME:
                return -1
            if err == EAGAIN or err == EBUSY:
                # Out of resources for new requests or the CQ is backed up: make room by
                # reaping what completed, then let the caller retry.
                if self._reap(REAP_ALL) == 0 and min_complete == 0:
                    with nogil:
                        ret = u_enter(fd, 0, 1, ENTER_GETEVENTS, NULL, 0)
                    self._reap(REAP_ALL)
                continue
            raise _errors.enter_error(err)

    cdef long _submit(self, unsigned wait_nr, unsigned flags) except -2:
        """Publish the SQ tail and enter the kernel only when it has to be entered."""
        cdef uint32_t tail = self.sqe_tail
        cdef uint32_t to_submit
        cdef uint32_t kflags
        u_store_release(self.sq_ktail, tail)
        if wait_nr > self.cq_entries:
            wait_nr = self.cq_entries   # the kernel counts CQ tail movement: never ask for more than fits
        if self.setup_flags & SETUP_SQPOLL:
            # The tail store must be visible before we look at NEED_WAKEUP.
            u_full_barrier()
            kflags = self.sq_kflags[0]
            to_submit = tail - u_load_acquire(self.sq_khead)
            if kflags & SQ_NEED_WAKEUP:
                flags |= ENTER_SQ_WAKEUP
            elif wait_nr == 0 and not (kflags & (SQ_CQ_OVERFLOW | SQ_TASKRUN)):
                return to_submit
        else:
            kflags = self.sq_kflags[0]
            to_submit = tail - u_load_acquire(self.sq_khead)
        if wait_nr or (kflags & (SQ_CQ_OVERFLOW | SQ_TASKRUN)) or (self.setup_flags & SETUP_DEFER_TASKRUN):
            flags |= ENTER_GETEVENTS
        if to_submit == 0 and not flags:
            return 0
        return self._enter(to_submit, wait_nr, flags, NULL, 0)

    def submit(self) -> int:
        """Hand every queued SQE to the kernel; returns how many it consumed."""
        self._check()
        self.last_sqe_flags = NULL
        return self._submit(0, 0)

    def submit_and_wait(self, unsigned wait_nr=1, timeout=None, min_wait=None) -> int:
        """Submit what is queued and process completions until `wait_nr` CQEs have been
        processed (at most as many as ops in flight, unless foreign_cqe_handler expects
        CQEs from elsewhere) or `timeout` seconds pass. With `min_wait` (seconds, FEAT_MIN_TIMEOUT)
        the kernel waits that long for all `wait_nr`, then returns as soon as any CQE is
        there. Returns the number of CQEs processed."""
        self._check()
        self.last_sqe_flags = NULL
        cdef unsigned done = 0
        if wait_nr > self.in_flight and self.foreign_cqe_handler is None:
            # Only our own ops can post here: waiting for more CQEs than ops in flight
            # could never end (a multishot op may post more; the caller loops for those).
            wait_nr = self.in_flight
        if timeout is None and min_wait is None:
            if wait_nr and self.cq_ready() >= wait_nr:
                self._submit(0, 0)
            else:
                self._submit(wait_nr, 0)
            done = self._reap(REAP_ALL)
            while done < wait_nr:
                self._enter(0, min(wait_nr - done, self.cq_entries), ENTER_GETEVENTS, NULL, 0)
                done += self._reap(REAP_ALL)
            return done
        self._submit(0, 0)
        return self._wait_timeout(wait_nr, timeout, min_wait)

    def wait(self, unsigned wait_nr=1, timeout=None, min_wait=None) -> int:
        """Wait for completions (submitting anything still queued first, as a wait on
        unsubmitted work would never end). Returns the number of CQEs processed."""
        return self.submit_and_wait(wait_nr, timeout, min_wait)

    cdef unsigned _wait_timeout(self, unsigned wait_nr, object timeout, object min_wait=None) except? 4294967295U:
        cdef u_getevents_arg arg
        cdef u_timespec ts
        cdef double deadline = 0, left
        cdef unsigned done = self._reap(REAP_ALL)
        cdef uint32_t min_usec = 0
        cdef long ret
        if not (self.features & FEAT_EXT_ARG):
            raise _errors.UnsupportedFeature("waiting with a timeout needs IORING_FEAT_EXT_ARG (Linux 5.11)")
        if min_wait is not None:
            if not (self.features & FEAT_MIN_TIMEOUT):
                raise _errors.UnsupportedFeature("min_wait needs IORING_FEAT_MIN_TIMEOUT (Linux 6.12)")
            min_usec = <uint32_t>min(_errors.seconds(min_wait) * 1e6, 4294967295.0)
        if timeout is not None:
            deadline = _monotonic() + _errors.seconds(timeout)
        if min_usec and done:
            # The kernel only counts CQEs that arrive during the wait: with some already in
            # hand, "return once anything is there" means waiting for the rest up to min_wait.
            left = _monotonic() + min_usec / 1e6
            if timeout is None or left < deadline:
                deadline = left
                timeout = min_wait
            min_usec = 0
        while done < wait_nr:
            memset(&arg, 0, sizeof(arg))
            arg.min_wait_usec = min_usec
            if timeout is not None:
                left = deadline - _monotonic()
                if left <= 0:
                    break
                ts.tv_sec = <int64_t>left
                ts.tv_nsec = <int64_t>((left - ts.tv_sec) * 1e9)
                arg.ts = <uint64_t>&ts
            ret = self._enter(0, min(wait_nr - done, self.cq_entries), ENTER_GETEVENTS | ENTER_EXT_ARG,
                              &arg, sizeof(arg))
            done += self._reap(REAP_ALL)
            if ret == -1 or (min_usec and done):
                break
        return done

    def peek(self) -> int:
        """Process whatever completions are ready without blocking."""
        self._check()
        cdef unsigned n = self._reap(REAP_ALL)
        if n == 0 and (self.sq_kflags[0] & (SQ_CQ_OVERFLOW | SQ_TASKRUN) or
                       self.setup_flags & (SETUP_DEFER_TASKRUN | SETUP_IOPOLL)):
            self._enter(0, 0, ENTER_GETEVENTS, NULL, 0)
            n = self._reap(REAP_ALL)
        return n

    cpdef unsigned cq_ready(self):
        """CQEs posted and not yet processed."""
        self._check()
        return u_load_acquire(self.cq_ktail) - self.cq_khead[0]

    @property
    def cq_overflow_flag(self) -> bool:
        return bool(self.sq_kflags[0] & SQ_CQ_OVERFLOW) if self.fd >= 0 else False

    @property
    def sq_flags(self) -> int:
        return self.sq_kflags[0] if self.fd >= 0 else 0

    @property
    def dropped(self) -> int:
        """SQEs the kernel dropped as invalid (sq.dropped)."""
        return self.sq_kdropped[0] if self.fd >= 0 else 0

    @property
    def cq_overflow(self) -> int:
        """CQEs the kernel could not post at all (cq.overflow; stays 0 with FEAT_NODROP)."""
        return self.cq_koverflow[0] if self.fd >= 0 else 0

    # -- CQ side ------------------------------------------------------------------

    cdef unsigned _reap(self, unsigned limit) except? 4294967295U:
        """Copy out ready CQEs in batches, free the CQ slots, then complete their ops."""
        cdef u_cqe batch[REAP_BATCH]
        cdef u_cqe *cqe
        cdef uint32_t head, tail, n, i
        cdef unsigned total = 0
        cdef object first_error = None
        while total < limit:
            head = self.cq_khead[0]
            tail = u_load_acquire(self.cq_ktail)
            n = 0
            while head != tail and n < REAP_BATCH and total + n < limit:
                cqe = <u_cqe *>(self.cqes + ((head & self.cq_mask) << (4 + self.cqe_shift)))
                batch[n] = cqe[0]
                head += 1
                n += 1
            if n == 0:
                break
            u_store_release(self.cq_khead, head)
            for i in range(n):
                try:
                    self._complete(batch[i].user_data, batch[i].res, batch[i].flags)
                except BaseException as exc:
                    # A callback failed: finish the batch first so no completion is lost.
                    if first_error is None:
                        first_error = exc
            total += n
        if first_error is not None:
            raise first_error
        return total

    cdef int _complete(self, uint64_t user_data, int32_t res, uint32_t flags) except -1:
        cdef uint32_t slot = <uint32_t>user_data
        cdef uint32_t gen = <uint32_t>(user_data >> 32)
        cdef Op op
        if user_data == INTERNAL_BIT:
            return 0  # our own cancel-all at close
        if slot >= self.cap or self.gens[slot] != gen or self.slots[slot] == NULL:
            # Not one of our ops: a message another ring posted (MSG_RING), or a stale CQE.
            if self.foreign_cqe_handler is not None:
                self.foreign_cqe_handler(user_data, res, flags)
            else:
                self.stale_cqes += 1
            return 0
        op = <Op>self.slots[slot]
        if res >= 0 and op.creates_fd and op.cancel_reason is not None:
            # The caller cancelled it but the fd was created anyway: nobody will ever see
            # it, so close it here rather than leak it, and report the cancel.
            close(res)
            op.discarded_fd = res
            res = -125  # ECANCELED
        if flags & CQE_F_MORE:
            if op.callback is not None:
                op.callback(op, res, flags)
            else:
                if op._more is None:
                    op._more = []
                op._more.append((res, flags))
            return 0
        op._res = res
        op._flags = flags
        op.state = ST_DONE
        self._retire(op)
        op._release_pins()
        if op.out is not None:
            finish = getattr(op.out, "_finish", None)
            if finish is not None:
                finish(op)  # lets the decoder of kernel-written data see the final result
        try:
            if op.callback is not None:
                callback = op.callback
                op.callback = None
                callback(op, res, flags)
            elif self.completions is not None:
                self.completions.append(op)
        finally:
            Py_DECREF(op)
        return 0

    def _complete_skipped(self, Op op not None, int32_t res=0):
        """Complete an op whose CQE the kernel did not post (CQE_SKIP_SUCCESS, or silenced
        by a skipping chain member), with the `res` the caller worked out: used by chains
        that know its fate because a later CQE of the chain arrived."""
        if op.state == ST_DONE or self.slots == NULL:
            return
        cdef uint32_t slot = <uint32_t>op.user_data
        if slot >= self.cap or self.slots[slot] != <PyObject *>op:
            return
        op.creates_fd = False  # no CQE carried an fd: never "discard" (close) res
        self._complete(op.user_data, res, 0)

    def ops_in_flight(self) -> list:
        """The ops the kernel (or the SQ) still owns."""
        cdef uint32_t i
        return [<object>self.slots[i] for i in range(self.cap) if self.slots[i] != NULL]

    # -- registration -----------------------------------------------------------------

    def _register(self, unsigned opcode, arg=None, unsigned nr=0) -> int:
        """io_uring_register(fd, opcode, arg, nr) with `arg` a buffer, an address or None."""
        self._check()
        cdef Pin pin
        cdef void *ptr = NULL
        cdef long ret
        cdef int err
        cdef int fd = self.fd
        if arg is None:
            ptr = NULL
        elif isinstance(arg, int):
            ptr = <void *><uint64_t>arg
        else:
            try:
                pin = Pin(arg, True)
            except TypeError:
                pin = Pin(arg, False)  # a read-only argument: fine for registrations the kernel only reads
            ptr = pin.view.buf
        while True:
            with nogil:
                ret = u_register(fd, opcode, ptr, nr)
                err = errno
            if ret >= 0:
                return ret
            if err == EINTR:
                PyErr_CheckSignals()
                continue
            raise OSError(err, _os.strerror(err))

    # -- teardown -----------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self.fd < 0

    def close(self, double timeout=5.0):
        """Cancel what is in flight, reap until nothing is, unmap and close the fd."""
        cdef u_sqe *sqe
        if self.fd < 0:
            return
        if self.fork_gen != _fork_generation:
            # The parent owns the ring's requests; the child only drops its mappings.
            self._unmap_and_close()
            return
        if self.closing:
            return
        self.closing = True
        try:
            self.last_sqe_flags = NULL
            if self.in_flight:
                self._submit(0, 0)
                if self.in_flight:
                    self.reserve(1)
                    sqe = self._next_sqe()
                    memset(sqe, 0, sizeof(u_sqe))
                    sqe.opcode = OP_ASYNC_CANCEL
                    sqe.fd = -1
                    sqe.op_flags = CANCEL_ALL | CANCEL_ANY
                    sqe.user_data = INTERNAL_BIT
                    self._submit(0, 0)
                deadline = _monotonic() + timeout
                while self.in_flight and _monotonic() < deadline:
                    self._wait_timeout(1, min(0.05, max(deadline - _monotonic(), 0.001)))
            if self.in_flight:
                _warnings.warn(f"closing a ring with {self.in_flight} ops still owned by the kernel; "
                               "their buffers are kept alive forever", ResourceWarning, stacklevel=2)
                self._abandon_in_flight()
        finally:
            self._unmap_and_close()

    cdef void _abandon_in_flight(self) noexcept:
        cdef uint32_t i
        for i in range(self.cap):
            if self.slots[i] != NULL:
                _abandoned.append(<object>self.slots[i])   # the table's reference moves there
                Py_DECREF(<object>self.slots[i])
                self.slots[i] = NULL
        self.in_flight = 0

    cdef void _unmap_and_close(self) noexcept:
        if self.sqes != NULL:
            munmap(self.sqes, self.sqes_sz)
            self.sqes = NULL
        if self.cq_ring_ptr != NULL and self.cq_ring_ptr != self.sq_ring_ptr:
            munmap(self.cq_ring_ptr, self.cq_ring_sz)
        self.cq_ring_ptr = NULL
        if self.sq_ring_ptr != NULL:
            munmap(self.sq_ring_ptr, self.sq_ring_sz)
            self.sq_ring_ptr = NULL
        if self.fd >= 0:
            close(self.fd)
            self.fd = -1

    def __del__(self):
        if self.fd >= 0:
            try:
                self.close()
            except BaseException:
                pass

    def __dealloc__(self):
        cdef uint32_t i
        if self.slots != NULL:
            if self.fd >= 0 and self.in_flight:
                # Never free buffers the kernel may still write into.
                self._abandon_in_flight()
            for i in range(self.cap):
                if self.slots[i] != NULL:
                    (<Op>self.slots[i])._release_pins()
                    Py_DECREF(<object>self.slots[i])
            free(self.slots)
            self.slots = NULL
        free(self.gens)
        free(self.free_slots)
        self._unmap_and_close()
