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
from cpython.pythread cimport PyThread_get_thread_ident
from cpython.pycapsule cimport PyCapsule_New, PyCapsule_GetPointer

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
    struct u_sync_cancel { uint64_t addr; int32_t fd; uint32_t flags; struct u_timespec timeout;
                           uint8_t opcode; uint8_t pad[7]; uint64_t pad2[3]; };
    _Static_assert(sizeof(struct u_sync_cancel) == 64, "sync cancel size");
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
    /* Frames of the calling thread inside any ring's core: close() from a callback or a
       signal handler (depth > 0) must defer the unmap instead of waiting for itself. */
    static __thread int u_tl_depth = 0;
    static inline void u_tl_enter(void) { u_tl_depth++; }
    static inline void u_tl_leave(void) { u_tl_depth--; }
    static inline int u_tl_get(void) { return u_tl_depth; }
    static inline void u_cpu_relax(void) {
    #if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
    #elif defined(__aarch64__)
        __asm__ __volatile__("yield");
    #endif
    }
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
    struct u_sync_cancel:
        uint64_t addr
        int32_t fd
        uint32_t flags
        u_timespec timeout
        uint8_t opcode
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
    int usleep(unsigned usec) nogil
    void u_tl_enter() nogil
    void u_tl_leave() nogil
    int u_tl_get() nogil
    void u_cpu_relax() nogil

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
    OP_SEND = 26
    OP_RECV = 27
    OP_MSG_RING = 40
    IOSQE_BUFFER_SELECT = 32
    IOSQE_CQE_SKIP_SUCCESS = 64
    RECV_MULTISHOT = 2
    REGISTER_SEND_MSG_RING = 31
    REGISTER_SYNC_CANCEL = 24
    REGISTER_ENABLE_RINGS = 12
    SETUP_R_DISABLED = 1 << 6
    ENTER_REGISTERED_RING = 16
    SETUP_TASKRUN_FLAG = 1 << 9
    SETUP_SINGLE_ISSUER = 1 << 12
    CQ_EVENTFD_DISABLED = 1
    OFF_PBUF_RING = 0x80000000
    SQPOLL_SPINS = 2000
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


cdef inline uint32_t _u32(object value, str name) except? 0xFFFFFFFF:
    if type(value) is not int and (not isinstance(value, int) or isinstance(value, bool)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 0 or value > 0xFFFFFFFF:
        raise ValueError(f"{name} must be in [0, 2**32-1], got {value}")
    return <uint32_t>value


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
    objects the kernel will dereference through it. Filled by the prep helpers in `ops`.

    Once a prep helper has returned it, the SQE is sealed: the fields the kernel reads as
    pointers or lengths (opcode, addr, len, off/addr2, addr3, op_flags, the command area)
    can no longer be changed behind its pins, and the pins cannot be dropped
    (`sqe.pins` is a copy). `unsafe_set()` writes raw fields anyway, for experts who pin
    what they point at themselves."""
    cdef u_sqe s
    cdef uint8_t ext[64]
    cdef list _pins
    cdef public bint big
    cdef public object context
    cdef public object out
    cdef readonly bint sealed
    cdef readonly tuple filenames   # the paths a path op was given, for its errors

    def __cinit__(self):
        memset(&self.s, 0, sizeof(u_sqe))
        memset(self.ext, 0, 64)
        self._pins = []
        self.big = False
        self.sealed = False

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
            buf_group = getattr(buf_group, "bgid", buf_group)  # a BufferRing names its group
            if buf_group < 0 or buf_group > 0xFFFF:
                raise ValueError(f"buf_group must be in [0, 65535], got {buf_group}")
            self.s.buf_index = <uint16_t>buf_group
            self.s.flags |= 32  # IOSQE_BUFFER_SELECT: a buffer group means the kernel picks
        if file_index is not None:
            self.s.file_index = <int32_t>file_index
        if context is not None:
            self.context = context
        return self

    def pin(self, obj, bint writable=False) -> Pin:
        """Pin `obj` for the op's lifetime and return the Pin (its .addr goes in the SQE)."""
        self._unsealed("pin")
        cdef Pin p = Pin(obj, writable)
        self._pins.append(p)
        return p

    def keep(self, obj):
        """Keep a Python object alive for the op's lifetime (a ctypes struct, a list)."""
        self._pins.append(obj)

    def _add_filename(self, name) -> None:
        """Remember a path the op works on (in argument order), so its OSError carries
        `filename` (and `filename2`) as os.open's and os.rename's do."""
        self._unsealed("filenames")
        self.filenames = (name,) if self.filenames is None else self.filenames + (name,)

    @property
    def pins(self) -> list:
        """What the op keeps alive (a copy: pins are dropped only at the final CQE)."""
        return list(self._pins)

    def _seal(self):
        """Called once the prep helper is done: pointer fields become read-only."""
        self.sealed = True
        return self

    cdef inline int _unsealed(self, str field) except -1:
        if self.sealed:
            raise AttributeError(
                f"{field} of a prepared SQE is read-only: the kernel would read it as a pointer or "
                "length behind the buffers pinned for it; prepare a new SQE, or use "
                "sqe.unsafe_set() if you pin what it points at yourself")
        return 0

    def unsafe_set(self, **fields) -> Sqe:
        """UNSAFE: write raw SQE fields (opcode, fd, off, addr2, addr, len, op_flags, buf_index,
        personality, file_index, addr3) on a prepared SQE, bypassing the pins. Whatever an
        address points at must stay alive and large enough until the op's final CQE: the
        library cannot check it, and a mistake lets the kernel write into freed memory."""
        sealed = self.sealed
        self.sealed = False
        try:
            for name, value in fields.items():
                if name not in _RAW_FIELDS:
                    raise AttributeError(f"no raw SQE field {name!r}")
                setattr(self, name, value)
        finally:
            self.sealed = sealed
        return self

    def __bytes__(self):
        cdef uint8_t buf[128]
        memcpy(buf, &self.s, 64)
        memcpy(buf + 64, self.ext, 64)
        return PyBytes_FromStringAndSize(<char *>buf, 128 if self.big else 64)

    def set_cmd(self, bytes data):
        """Write the command area (uring_cmd): 16 bytes, or 80 with SQE128. The payload is
        the driver's business: an address inside it is not pinned by the library."""
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
        def __set__(self, uint8_t v):
            self._unsealed("opcode")
            self.s.opcode = v
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
        def __set__(self, uint64_t v):
            self._unsealed("off")
            self.s.off = v
    property addr2:
        def __get__(self): return self.s.off
        def __set__(self, uint64_t v):
            self._unsealed("addr2")
            self.s.off = v
    property addr:
        def __get__(self): return self.s.addr
        def __set__(self, uint64_t v):
            self._unsealed("addr")
            self.s.addr = v
    property len:
        def __get__(self): return self.s.len
        def __set__(self, uint32_t v):
            self._unsealed("len")
            self.s.len = v
    property op_flags:
        def __get__(self): return self.s.op_flags
        def __set__(self, uint32_t v):
            self._unsealed("op_flags")
            self.s.op_flags = v
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
        def __set__(self, uint64_t v):
            self._unsealed("addr3")
            self.s.addr3 = v


_RAW_FIELDS = frozenset(("opcode", "fd", "off", "addr2", "addr", "len", "op_flags", "buf_index",
                         "buf_group", "personality", "file_index", "splice_fd_in", "addr3", "ioprio",
                         "flags", "user_data"))


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
    cdef int32_t buf_index   # public as .buf_index (READ_FIXED/WRITE_FIXED only); RECV: buffer group
    cdef uint32_t msg_flags  # a buffer-group RECV's MSG_* flags and ioprio, for requeue()
    cdef uint16_t recv_ioprio
    cdef bint group_recv     # queued by recv_select/recv_multishot's fast path: requeue() may repeat it
    cdef int32_t buf_table   # registered buffers when a fixed op was queued (-1: unknown)
    cdef readonly tuple filenames   # the path op's paths (None for other ops)
    # The second 16 bytes of a CQE32 completion (uring_cmd results), latest CQE's.
    cdef uint64_t big0
    cdef uint64_t big1
    cdef bint has_big

    # No __dealloc__: an Op only holds a buffer view while it sits in a ring's table, and
    # every way out of the table releases it (final CQE, _unqueue_last, RingCore dealloc);
    # a Cython __dealloc__ would cost every NOP an error-state save/restore.

    @property
    def buf_index(self) -> int:
        """The registered buffer a READ_FIXED/WRITE_FIXED op uses; -1 for other ops."""
        if self.opcode == OP_READ_FIXED or self.opcode == OP_WRITE_FIXED:
            return self.buf_index
        return -1

    @property
    def buf_table_size(self) -> int:
        """How many buffers the ring had registered when this READ_FIXED/WRITE_FIXED op was
        queued (-1: unknown, or another opcode): lets an EFAULT name what was there."""
        if self.opcode == OP_READ_FIXED or self.opcode == OP_WRITE_FIXED:
            return self.buf_table
        return -1

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

    @property
    def cqe_extra(self):
        """The extra 16 bytes of the latest CQE on a CQE32 ring (big_cqe[0], big_cqe[1]),
        or None on a ring with 16-byte CQEs."""
        if not self.has_big:
            return None
        return (self.big0, self.big1)

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

    def __cinit__(self, uint32_t entries, int ring_fd=-1, uint16_t bgid=0):
        """Anonymous memory we register, or (ring_fd >= 0) the memory the kernel allocated
        for group `bgid` at registration with IOU_PBUF_RING_MMAP, mapped from the ring fd."""
        if entries == 0 or entries > 32768 or (entries & (entries - 1)):
            raise ValueError(f"buffer ring entries must be a power of two in 1..32768, got {entries}")
        self.size = entries * 16
        if ring_fd >= 0:
            self.mem = <uint8_t *>u_mmap(self.size, ring_fd, OFF_PBUF_RING | (<uint64_t>bgid << 16))
            if <void *>self.mem == U_MAP_FAILED:
                self.mem = NULL
                raise OSError(errno, "mmap of the kernel's buffer ring failed: " + _os.strerror(errno))
        else:
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


# C entry points for uring.aio's compiled awaitables (uring/aio/_fast.pyx), which queue and
# complete an op per awaited read: a Python-level method call with keyword arguments each way
# was a tenth of the cost of a page-cached read. Still the core that fills the SQE and holds
# the pins; the awaitable only gets the final result without a call through Python.
ctypedef int (*direct_done_fn)(object callback, object op, int32_t res, uint32_t flags) except -1
cdef object _direct_type = None          # a callback of exactly this type is completed by...
cdef direct_done_fn _direct_done = NULL  # ...this function instead of callback(op, res, flags)


def _set_direct_callback(type cls, capsule) -> None:
    """Complete ops whose callback is exactly of type `cls` by calling the C function in
    `capsule` ("uring._core.direct_done": int f(callback, op, int32 res, uint32 flags),
    -1 with an exception set) with the final CQE; CQEs with F_MORE still call the object."""
    global _direct_type, _direct_done
    _direct_done = <direct_done_fn>PyCapsule_GetPointer(capsule, "uring._core.direct_done")
    _direct_type = cls


cdef object _capi_rw(object ring, bint write, int32_t fd, object buf, object nbytes, object offset,
                     object callback):
    """RingCore.read/write (fd, buf, nbytes, offset, callback=...) for a ring that is a RingCore."""
    return (<RingCore>ring)._buffer_op(OP_WRITE if write else OP_READ, fd, buf, _as_offset(offset),
                                       _nbytes(nbytes), not write, 0, -1, 0, callback, None)


# object f(ring, bint write, int32 fd, buf, nbytes, offset, callback): NULL with an exception set
capi_rw = PyCapsule_New(<void *>_capi_rw, "uring._core.rw", NULL)


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
    # Close safety: frames inside the core (enter, reap, register, drain) and threads
    # blocked in the kernel. Memory is unmapped only when busy drops to 0.
    cdef int busy
    cdef int waiters
    cdef long closer_ident
    cdef double close_timeout
    cdef long last_waiter
    cdef bint multi_waiters
    cdef bint waking
    cdef bint msg_wake_ok
    cdef bint sync_cancel_ok
    # An R_DISABLED ring that its first enter enables (_enable_on_first_enter)
    cdef bint enable_on_enter
    # SINGLE_ISSUER: the thread the kernel lets submit (0: not known yet, or any thread)
    cdef long issuer
    # IORING_REGISTER_RING_FDS: the index enter uses instead of the fd, from that thread
    cdef int reg_index
    cdef long reg_thread
    # The registered-buffer table as (address, length) pairs, mirrored by register.py so a
    # READ_FIXED/WRITE_FIXED outside it is refused at queue time (-1: not known).
    cdef uint64_t *fixed_spans
    cdef int32_t fixed_count

    def __cinit__(self):
        self.fd = -1
        self.slots = NULL
        self.gens = NULL
        self.free_slots = NULL
        self.sq_ring_ptr = NULL
        self.cq_ring_ptr = NULL
        self.sqes = NULL
        self.reg_index = -1
        self.fixed_spans = NULL
        self.fixed_count = 0
        self.msg_wake_ok = True
        self.sync_cancel_ok = True
        self.close_timeout = 5.0

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
        if (p.flags & SETUP_SINGLE_ISSUER) and not (p.flags & SETUP_R_DISABLED):
            self.issuer = <long>PyThread_get_thread_ident()

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
        if self.fd < 0 or self.closing:
            raise _errors.RingClosed("the ring is closed")
        if self.fork_gen != _fork_generation:
            raise _errors.RingForked("this ring belongs to the parent process; create a new Ring after fork()")
        return 0

    cdef inline int _check_opcode(self, uint8_t opcode) except -1:
        if not self.supported[opcode]:
            raise _errors.unsupported_opcode(opcode)
        return 0

    cdef inline int _check_flags(self, uint8_t flags) except -1:
        if flags & IOSQE_CQE_SKIP_SUCCESS:
            raise ValueError(
                "IOSQE_CQE_SKIP_SUCCESS on a single op would leave it without a completion when it "
                "succeeds (and its buffers pinned forever): use ring.chain(skip_success=True), which "
                "resolves silent successes from the chain's other CQEs")
        return 0

    def opcode_supported(self, int opcode) -> bool:
        """Whether the running kernel accepts this opcode (IORING_REGISTER_PROBE)."""
        if opcode < 0 or opcode > 255:
            return False
        return bool(self.supported[opcode])

    # -- being inside the core ----------------------------------------------------------
    # Every path that releases the GIL (enter, register) or runs Python code midway
    # (callbacks during a reap) counts itself in `busy`; close() from such a callback, a
    # signal handler or another thread then only marks the ring closing, and the last frame
    # to leave drains and unmaps. Ring memory is never unmapped under anyone's feet.

    cdef inline void _in(self) noexcept:
        self.busy += 1
        u_tl_enter()

    cdef int _out(self) except -1:
        if self.closing and self.fd >= 0 and self.busy > 1 and self.waiters:
            self._post_wake()   # another thread may have gone to sleep after the close's wake
        self.busy -= 1
        u_tl_leave()
        if self.closing and self.fd >= 0 and self.busy == 0:
            self._finish_close()
        return 0

    cdef int _closed_midway(self) except -1:
        """A wait noticed the ring closing: quietly for the thread that closed it (from a
        callback or a signal handler), RingClosed for any other."""
        if self.closer_ident != <long>PyThread_get_thread_ident():
            raise _errors.RingClosed("the ring was closed while this thread was waiting on it")
        return 0

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
            self._in()
            try:
                self._make_room()
            finally:
                self._out()
            if self.sqes == NULL:
                raise _errors.RingClosed("the ring was closed while making room in the SQ")
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
            self._in()
            try:
                self._submit(0, 0)
                while self.sq_entries - (self.sqe_tail - u_load_acquire(self.sq_khead)) < n:
                    self._make_room()
            finally:
                self._out()
            self._check()
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

    cdef Op _queue_sqe(self, Sqe sqe, object callback, object context, bint allow_skip):
        self._check_opcode(sqe.s.opcode)
        if not allow_skip:
            self._check_flags(sqe.s.flags)
        if sqe.big and not self.sqe_shift:
            raise _errors.UnsupportedFeature(
                f"{_errors.opcode_name(sqe.s.opcode)} needs a 128-byte SQE: create the ring with IORING_SETUP_SQE128")
        cdef bint fixed = sqe.s.opcode == OP_READ_FIXED or sqe.s.opcode == OP_WRITE_FIXED
        if fixed:
            self._check_fixed(sqe.s.buf_index, sqe.s.addr, sqe.s.len)
        cdef u_sqe *dst = self._next_sqe()
        memcpy(dst, &sqe.s, 64)
        if self.sqe_shift:
            memcpy((<uint8_t *>dst) + 64, sqe.ext, 64)
        cdef Op op = self._new_op(sqe.s.opcode, dst)
        op.sqe_flags = sqe.s.flags
        if sqe._pins:
            op.pins = tuple(sqe._pins)   # our own copy: the caller cannot drop them
        op.context = sqe.context if context is None else context
        op.callback = callback
        op.out = sqe.out
        op.fd = sqe.s.fd
        if fixed:
            op.buf_index = sqe.s.buf_index   # for errors naming the registered buffer
            op.buf_table = self.fixed_count
        if sqe.filenames is not None:
            op.filenames = sqe.filenames
        # Only a regular (non-direct) fd lands in our process's table and can leak.
        op.creates_fd = ((sqe.s.opcode == OP_ACCEPT or sqe.s.opcode == OP_OPENAT or
                          sqe.s.opcode == OP_OPENAT2 or sqe.s.opcode == OP_SOCKET) and sqe.s.file_index == 0) \
            or sqe.s.opcode == OP_FIXED_FD_INSTALL
        op.discarded_fd = -1
        return op

    cdef int _check_fixed(self, uint32_t index, uint64_t addr, uint64_t length) except -1:
        """Refuse a READ_FIXED/WRITE_FIXED the kernel would fail with a bare EFAULT."""
        cdef uint64_t start, size
        if self.fixed_count < 0:
            return 0
        if index >= <uint32_t>self.fixed_count:
            raise ValueError(f"buf_index {index} is not a registered buffer: this ring has "
                             f"{self.fixed_count} registered buffer(s) (Ring.register_buffers)")
        start = self.fixed_spans[2 * index]
        size = self.fixed_spans[2 * index + 1]
        if size == 0:
            raise ValueError(f"registered buffer slot {index} is empty (of {self.fixed_count})")
        if addr < start or addr - start > size or length > size - (addr - start):
            raise ValueError(f"the {length} bytes at {addr:#x} lie outside registered buffer {index} "
                             f"({size} bytes at {start:#x}): pass (a memoryview slice of) that buffer")
        return 0

    def _set_fixed_buffers(self, spans) -> None:
        """Mirror the registered-buffer table: a list of (address, length), (0, 0) for an
        empty slot; None when it is not known (registered behind register.py's back)."""
        cdef Py_ssize_t i, n
        cdef uint64_t *table = NULL
        if spans is None:
            self.fixed_count = -1
            return
        n = len(spans)
        if n > 0x10000:
            self.fixed_count = -1   # more than a u16 buf_index can name: leave it to the kernel
            return
        if n:
            table = <uint64_t *>malloc(2 * n * sizeof(uint64_t))
            if table == NULL:
                raise MemoryError()
            try:
                for i in range(n):
                    table[2 * i] = spans[i][0]
                    table[2 * i + 1] = spans[i][1]
            except BaseException:
                free(table)
                raise
        free(self.fixed_spans)
        self.fixed_spans = table
        self.fixed_count = <int32_t>n

    def queue(self, Sqe sqe not None, *, callback=None, context=None, bint allow_skip_success=False):
        """Copy a prepared SQE into the SQ and return its Op (not yet submitted).
        `callback(op, res, flags)` is called for every CQE of the op (given here so no other
        thread can complete the op before it is attached); `context` becomes op.context.
        `allow_skip_success` is for chain drivers that resolve CQE_SKIP_SUCCESS members
        themselves; a lone op with that flag is refused (it would never complete)."""
        self._check()
        return self._queue_sqe(sqe, callback, context, allow_skip_success)

    def queue_many(self, sqes, *, callback=None, context=None) -> list:
        """Queue several prepared SQEs in one call (no other thread's SQE can land between
        them); returns their Ops. `callback`/`context` apply to each."""
        self._check()
        cdef list items = list(sqes)
        cdef list out = []
        cdef Sqe s
        cdef Py_ssize_t run = 0
        for item in items:
            if not isinstance(item, Sqe):
                raise TypeError(f"queue_many takes Sqe objects, got {type(item).__name__}")
            s = <Sqe>item
            self._check_opcode(s.s.opcode)
            self._check_flags(s.s.flags)
            run = run + 1 if s.s.flags & (IOSQE_IO_LINK | IOSQE_IO_HARDLINK) else 0
            if run >= self.sq_entries:
                raise _errors.SubmissionQueueFull(
                    f"a linked chain of more than {self.sq_entries} SQEs cannot fit the SQ")
        # Room for the whole batch first, so a chain in it is never split by a submit.
        self.reserve(min(<Py_ssize_t>len(items), <Py_ssize_t>self.sq_entries))
        for item in items:
            out.append(self._queue_sqe(<Sqe>item, callback, context, False))
        return out

    # Fast paths for the hot opcodes: no Sqe object, the SQE is written in place.

    def nop(self, uint8_t sqe_flags=0, *, callback=None, context=None):
        """Queue IORING_OP_NOP (sqe_flags: IOSQE_* bits)."""
        self._check()
        self._check_flags(sqe_flags)
        cdef u_sqe *sqe = self._next_sqe()
        memset(sqe, 0, sizeof(u_sqe))
        sqe.fd = -1
        sqe.flags = sqe_flags
        cdef Op op = self._new_op(OP_NOP, sqe)
        op.sqe_flags = sqe_flags
        op.fd = -1
        if callback is not None:
            op.callback = callback
        if context is not None:
            op.context = context
        return op

    cdef Op _buffer_op(self, uint8_t opcode, int32_t fd, object buf, uint64_t off,
                       int64_t nbytes, bint writable, uint8_t flags, int buf_index,
                       uint32_t op_flags, object callback, object context):
        cdef Py_buffer view
        self._check()
        self._check_opcode(opcode)
        self._check_flags(flags)
        # The buffer is exported before an SQE is taken: exporting can run Python code
        # (a class with __buffer__), which must not find a half-written SQE.
        try:
            PyObject_GetBuffer(buf, &view, PyBUF_WRITABLE if writable else PyBUF_SIMPLE)
        except (BufferError, TypeError):
            raise TypeError(f"{_errors.opcode_name(opcode)} needs a {'writable ' if writable else ''}"
                            f"contiguous buffer, got {type(buf).__name__}") from None
        if nbytes < 0:
            nbytes = view.len
        elif nbytes > view.len:
            PyBuffer_Release(&view)
            raise ValueError(f"nbytes={nbytes} exceeds the buffer's {view.len} bytes")
        if nbytes > <int64_t>4294967295LL:
            PyBuffer_Release(&view)
            raise ValueError(f"nbytes={nbytes} exceeds the 32-bit SQE length")
        if buf_index >= 0:
            try:
                self._check_fixed(buf_index, <uint64_t>view.buf, <uint64_t>nbytes)
            except BaseException:
                PyBuffer_Release(&view)
                raise
        cdef u_sqe *sqe
        try:
            self._check()
            sqe = self._next_sqe()
        except BaseException:
            PyBuffer_Release(&view)
            raise
        cdef Op op = self._new_op(opcode, sqe)
        op.view = view
        op.has_view = True
        _fill_rw(sqe, opcode, fd, <uint64_t>view.buf, <uint32_t>nbytes, off)
        sqe.flags = flags
        sqe.op_flags = op_flags
        sqe.user_data = op.user_data
        op.sqe_flags = flags
        op.fd = fd
        op.length = <uint32_t>nbytes
        op.buf_index = buf_index
        if buf_index >= 0:
            sqe.buf_index = <uint16_t>buf_index
            op.buf_table = self.fixed_count
        if callback is not None:
            op.callback = callback
        if context is not None:
            op.context = context
        return op

    cdef u_sqe *_reissue(self, Op op) except NULL:
        """An SQE for a completed op that goes in again with nothing to pin: the op is in
        flight anew, under a fresh user_data."""
        cdef u_sqe *sqe = self._next_sqe()
        op._more = None
        op.state = ST_IN_FLIGHT
        op._res = 0
        op._flags = 0
        self._enlist(op, op.opcode, sqe)
        return sqe

    cdef Op _rearm(self, Op op, object offset):
        cdef u_sqe *sqe
        if op.state != ST_DONE:
            raise ValueError(f"{op._name()} is still in flight; only a completed op can be queued again")
        if op.opcode == OP_NOP and op._buffer is None and not op.has_view:
            sqe = self._reissue(op)
            memset(sqe, 0, sizeof(u_sqe))
            sqe.fd = -1
            sqe.flags = op.sqe_flags
            sqe.user_data = op.user_data
            return op
        if op.group_recv:
            # A receive into the kernel's pick from a buffer group (recv_select, recv_multishot):
            # the same SQE again, nothing to pin.
            sqe = self._reissue(op)
            _fill_rw(sqe, OP_RECV, op.fd, 0, op.length, 0)
            sqe.flags = op.sqe_flags
            sqe.ioprio = op.recv_ioprio
            sqe.op_flags = op.msg_flags
            sqe.buf_index = <uint16_t>op.buf_index
            sqe.user_data = op.user_data
            return op
        if op._buffer is None or not (op.opcode == OP_READ or op.opcode == OP_WRITE or
                                      op.opcode == OP_READ_FIXED or op.opcode == OP_WRITE_FIXED):
            raise ValueError("only ops from ring.nop/read/write/read_fixed/write_fixed can be queued again")
        cdef uint64_t off = _as_offset(offset)
        cdef bint writable = op.opcode == OP_READ or op.opcode == OP_READ_FIXED
        PyObject_GetBuffer(op._buffer, &op.view, PyBUF_WRITABLE if writable else PyBUF_SIMPLE)
        op.has_view = True
        if op.view.len < op.length:
            op._release_pins()
            raise ValueError(f"the buffer shrank below the op's {op.length} bytes")
        try:
            self._check()
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

    def requeue(self, Op op not None, offset=0):
        """Queue a completed fast-path read/write (read, write, read_fixed, write_fixed) again
        with the same fd, buffer, length, flags and callback at `offset`, reusing the Op
        object: a loop that keeps a fixed set of buffers in flight skips building a new op.
        A recv_select or recv_multishot op goes in again as it was (offset unused)."""
        self._check()
        return self._rearm(op, offset)

    def requeue_many(self, ops, offsets=None) -> int:
        """requeue() every op of `ops` at the matching offset of `offsets` (an iterable; None
        for NOPs and offset 0), in one call; returns how many were queued."""
        self._check()
        cdef int n = 0
        it = iter(offsets) if offsets is not None else None
        for op in ops:
            if not isinstance(op, Op):
                raise TypeError(f"requeue_many takes Op objects, got {type(op).__name__}")
            self._rearm(<Op>op, next(it) if it is not None else 0)
            n += 1
        return n

    def requeue_cycle(self, ops, offsets, unsigned long limit, long expect=-1) -> int:
        """Keep the fast-path ops of `ops` in flight over `offsets`: wait, and queue each op
        that completed again at the next offset, all in C, until `limit` completions were
        handled, `offsets` runs out, or an op ends with a negative result (or, with `expect`
        >= 0, any other result than `expect`): that op is left done and not re-armed, nor is
        one that completed after `offsets` ran out. Ops still in flight stay in flight for the
        next call. Returns the successful completions handled. What a data loader or a
        benchmark loop would write in Python, without a Python-level step per completion."""
        self._check()
        cdef list group = list(ops)
        cdef Py_ssize_t i, n = len(group)
        cdef unsigned long handled = 0
        cdef bint stop = False
        cdef bytearray armed = bytearray(n)
        cdef Op op
        for i in range(n):
            if not isinstance(group[i], Op):
                raise TypeError(f"requeue_cycle takes Op objects, got {type(group[i]).__name__}")
            armed[i] = (<Op>group[i]).state != ST_DONE
        it = iter(offsets)
        self.last_sqe_flags = NULL
        while handled < limit and not stop and self.in_flight:
            self._in()
            try:
                self._wait_untimed(1) if not self.multi_waiters else self._wait_timeout(1, None, None)
            finally:
                self._out()
            if self.closing:
                break
            for i in range(n):
                op = <Op>group[i]
                if not armed[i] or op.state != ST_DONE:
                    continue
                armed[i] = 0
                if op.cancel_reason is not None or op._res < 0 or (expect >= 0 and op._res != expect):
                    stop = True
                    continue
                handled += 1
                if stop or handled > limit:
                    continue
                try:
                    nxt = next(it)
                except StopIteration:
                    stop = True
                    continue
                self._rearm(op, nxt)
                armed[i] = 1
        return handled

    def read(self, int fd, buf, nbytes=None, offset=0, uint8_t sqe_flags=0, *, callback=None, context=None):
        """Queue IORING_OP_READ into a writable buffer; liburing's order (fd, buf, nbytes,
        offset); nbytes None means the whole buffer, offset -1 the file position."""
        return self._buffer_op(OP_READ, fd, buf, _as_offset(offset), _nbytes(nbytes), True, sqe_flags, -1, 0,
                               callback, context)

    def write(self, int fd, buf, nbytes=None, offset=0, uint8_t sqe_flags=0, *, callback=None, context=None):
        """Queue IORING_OP_WRITE from a bytes-like buffer (fd, buf, nbytes, offset)."""
        return self._buffer_op(OP_WRITE, fd, buf, _as_offset(offset), _nbytes(nbytes), False, sqe_flags, -1, 0,
                               callback, context)

    def read_fixed(self, int fd, buf, nbytes, offset, int buf_index, uint8_t sqe_flags=0, *, callback=None,
                   context=None):
        """Queue IORING_OP_READ_FIXED into (a slice of) registered buffer `buf_index`."""
        if buf_index < 0 or buf_index > 0xFFFF:
            raise ValueError(f"buf_index out of range: {buf_index}")
        return self._buffer_op(OP_READ_FIXED, fd, buf, _as_offset(offset), _nbytes(nbytes), True, sqe_flags,
                               buf_index, 0, callback, context)

    def write_fixed(self, int fd, buf, nbytes, offset, int buf_index, uint8_t sqe_flags=0, *, callback=None,
                    context=None):
        """Queue IORING_OP_WRITE_FIXED from (a slice of) registered buffer `buf_index`."""
        if buf_index < 0 or buf_index > 0xFFFF:
            raise ValueError(f"buf_index out of range: {buf_index}")
        return self._buffer_op(OP_WRITE_FIXED, fd, buf, _as_offset(offset), _nbytes(nbytes), False, sqe_flags,
                               buf_index, 0, callback, context)

    cdef object _slow(self, str name, tuple args, dict kwargs, dict common, uint8_t sqe_flags, object callback,
                      object context):
        """The generic route (prep helper + Sqe.set + queue) for a fast-path call that uses
        options the fast path does not handle."""
        from uring.ops import helpers as _helpers
        s = _helpers()[name](*args, **kwargs)
        if sqe_flags:
            common["flags"] = sqe_flags
        if common:
            s.set(**common)
        return self.queue(s, callback=callback, context=context)

    def send(self, int fd, buf, flags=0, *, uint8_t sqe_flags=0, callback=None, context=None, **common):
        """Queue IORING_OP_SEND of the whole of `buf` (MSG_* `flags`), liburing's order."""
        if common:
            return self._slow("send", (fd, buf, flags), {}, common, sqe_flags, callback, context)
        return self._buffer_op(OP_SEND, fd, buf, 0, -1, False, sqe_flags, -1, _u32(flags, "flags"),
                               callback, context)

    def recv(self, int fd, buf, flags=0, *, uint8_t sqe_flags=0, callback=None, context=None, **common):
        """Queue IORING_OP_RECV into a writable buffer (MSG_* `flags`); res 0 at EOF."""
        if common:
            return self._slow("recv", (fd, buf, flags), {}, common, sqe_flags, callback, context)
        return self._buffer_op(OP_RECV, fd, buf, 0, -1, True, sqe_flags, -1, _u32(flags, "flags"),
                               callback, context)

    def recv_multishot(self, int fd, flags=0, *, buf_group, uint8_t sqe_flags=0, callback=None, context=None,
                       **common):
        """Queue a multishot IORING_OP_RECV picking buffers from group `buf_group` (an id or
        a BufferRing): a CQE with F_MORE|F_BUFFER per receive until EOF, error or -ENOBUFS."""
        if common:
            return self._slow("recv_multishot", (fd, flags), {"buf_group": buf_group}, common, sqe_flags,
                              callback, context)
        return self._recv_from_group(fd, 0, flags, buf_group, RECV_MULTISHOT, sqe_flags, callback, context)

    def recv_select(self, int fd, nbytes, flags=0, *, buf_group, uint8_t sqe_flags=0, callback=None,
                    context=None, **common):
        """Queue a one-shot IORING_OP_RECV into a buffer the kernel picks from group
        `buf_group` (at most `nbytes`, 0 for the whole buffer); the CQE carries F_BUFFER."""
        if common:
            return self._slow("recv_select", (fd, nbytes, flags), {"buf_group": buf_group}, common,
                              sqe_flags, callback, context)
        return self._recv_from_group(fd, _u32(nbytes, "nbytes"), flags, buf_group, 0, sqe_flags, callback,
                                     context)

    cdef Op _recv_from_group(self, int fd, uint32_t nbytes, flags, buf_group, uint16_t ioprio,
                             uint8_t sqe_flags, object callback, object context):
        self._check()
        self._check_opcode(OP_RECV)
        self._check_flags(sqe_flags)
        cdef uint32_t msg_flags = _u32(flags, "flags")
        group = getattr(buf_group, "bgid", buf_group)
        if type(group) is not int or group < 0 or group > 0xFFFF:
            raise ValueError(f"buf_group must be a group id in [0, 65535] or a BufferRing, got {buf_group!r}")
        cdef u_sqe *sqe = self._next_sqe()
        cdef Op op = self._new_op(OP_RECV, sqe)
        _fill_rw(sqe, OP_RECV, fd, 0, nbytes, 0)
        sqe.flags = sqe_flags | IOSQE_BUFFER_SELECT
        sqe.ioprio = ioprio
        sqe.op_flags = msg_flags
        sqe.buf_index = <uint16_t>group
        sqe.user_data = op.user_data
        op.sqe_flags = sqe.flags
        op.fd = fd
        op.length = nbytes
        op.buf_index = group
        op.msg_flags = msg_flags
        op.recv_ioprio = ioprio
        op.group_recv = True
        if callback is not None:
            op.callback = callback
        if context is not None:
            op.context = context
        return op

    def accept(self, int fd, flags=0, *, bint want_address=False, uint8_t sqe_flags=0, callback=None,
               context=None, **common):
        """Queue IORING_OP_ACCEPT (accept4 `flags`: SOCK_NONBLOCK|SOCK_CLOEXEC); res is the new
        fd, closed for you if the op was cancelled but the kernel accepted anyway."""
        if common or want_address:
            return self._slow("accept", (fd, flags), {"want_address": want_address}, common, sqe_flags,
                              callback, context)
        self._check()
        self._check_opcode(OP_ACCEPT)
        self._check_flags(sqe_flags)
        cdef uint32_t aflags = _u32(flags, "flags")
        if aflags & ~(<uint32_t>(_os.O_NONBLOCK | _os.O_CLOEXEC)):
            raise ValueError(f"accept flags are SOCK_NONBLOCK|SOCK_CLOEXEC, got {aflags:#x}")
        cdef u_sqe *sqe = self._next_sqe()
        cdef Op op = self._new_op(OP_ACCEPT, sqe)
        _fill_rw(sqe, OP_ACCEPT, fd, 0, 0, 0)
        sqe.flags = sqe_flags
        sqe.op_flags = aflags
        sqe.user_data = op.user_data
        op.sqe_flags = sqe_flags
        op.fd = fd
        op.creates_fd = True
        op.discarded_fd = -1
        if callback is not None:
            op.callback = callback
        if context is not None:
            op.context = context
        return op

    def _peek_sqe(self, unsigned back=1):
        """Bytes of the SQE written `back` entries ago (for golden tests of the fast paths)."""
        self._check()
        cdef uint32_t idx = (self.sqe_tail - back) & self.sq_mask
        return PyBytes_FromStringAndSize(<char *>(self.sqes + (idx << (6 + self.sqe_shift))), 64 << self.sqe_shift)

    # -- entering the kernel --------------------------------------------------------

    def _enable_on_first_enter(self):
        """Let the first thread that enters this ring (created with R_DISABLED) enable it
        (IORING_REGISTER_ENABLE_RINGS), which makes that thread a SINGLE_ISSUER ring's
        issuer: an event loop is built in one thread and may be run in another."""
        self._check()
        if not (self.setup_flags & SETUP_R_DISABLED):
            raise ValueError("only a ring created with SetupFlags.R_DISABLED starts disabled")
        self.enable_on_enter = True

    cdef int _enable_now(self) except -1:
        cdef long ret
        cdef int err
        with nogil:
            ret = u_register(self.fd, REGISTER_ENABLE_RINGS, NULL, 0)
            err = errno
        if ret < 0 and err != 77:     # EBADFD: enabled already (by enable_rings())
            raise OSError(err, "enabling the ring failed: " + _os.strerror(err))
        self.enable_on_enter = False
        if self.setup_flags & SETUP_SINGLE_ISSUER:
            self.issuer = <long>PyThread_get_thread_ident()
        return 0

    @property
    def issuer_thread(self):
        """SINGLE_ISSUER: the ident of the only thread the kernel lets submit to and wait
        on this ring; None while any thread may (not SINGLE_ISSUER, or not enabled yet)."""
        return self.issuer if self.issuer else None

    def _use_registered_ring(self, int index):
        """Enter through registered ring index `index` (IORING_REGISTER_RING_FDS) from the
        calling thread, which registered it; -1 goes back to the plain fd."""
        self.reg_index = index
        self.reg_thread = <long>PyThread_get_thread_ident() if index >= 0 else 0

    cdef long _enter(self, unsigned to_submit, unsigned min_complete, unsigned flags,
                     void *arg, size_t argsz) except? -2:
        """io_uring_enter with the GIL released. Returns -1 on ETIME, 0 when a signal cut a
        timed wait short (the caller recomputes what is left), raises otherwise."""
        cdef long ret
        cdef int err
        cdef int fd = self.fd
        cdef long me
        if self.enable_on_enter:
            self._enable_now()
        if self.reg_index >= 0 and self.reg_thread == <long>PyThread_get_thread_ident():
            fd = self.reg_index
            flags |= ENTER_REGISTERED_RING
        if min_complete:
            me = <long>PyThread_get_thread_ident()
            if self.last_waiter != me:
                if self.last_waiter != 0:
                    self.multi_waiters = True
                self.last_waiter = me
        while True:
            if min_complete:
                self.waiters += 1
            with nogil:
                ret = u_enter(fd, to_submit, min_complete, flags, arg, argsz)
                err = errno
            if min_complete:
                self.waiters -= 1
            if ret >= 0:
                if min_complete:
                    # A wait cut short by a signal still returns the submitted count when
                    # it also submitted: the handler must run (and may raise) here.
                    PyErr_CheckSignals()
                return ret
            if err == EINTR:
                PyErr_CheckSignals()   # lets KeyboardInterrupt out
                if arg != NULL or self.closing:
                    return 0           # a timed wait: the caller recomputes the time left
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
                if self.closing:
                    return 0
                continue
            raise _errors.enter_error(err)

    cdef long _submit(self, unsigned wait_nr, unsigned flags) except -2:
        """Publish the SQ tail and enter the kernel only when it has to be entered; what the
        kernel left in the SQ (it stops at an SQE it rejects) goes again each time."""
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
        if wait_nr or (kflags & (SQ_CQ_OVERFLOW | SQ_TASKRUN)) or (
                (self.setup_flags & SETUP_DEFER_TASKRUN) and not (self.setup_flags & SETUP_TASKRUN_FLAG)):
            flags |= ENTER_GETEVENTS
        if to_submit == 0 and not flags:
            return 0
        return self._enter(to_submit, wait_nr, flags, NULL, 0)

    def submit(self) -> int:
        """Hand every queued SQE to the kernel; returns how many it consumed."""
        self._check()
        self.last_sqe_flags = NULL
        self._in()
        try:
            return self._submit(0, 0)
        finally:
            self._out()

    cdef inline unsigned _clamp_wait(self, unsigned wait_nr) noexcept:
        if wait_nr > self.in_flight and self.foreign_cqe_handler is None:
            # Only our own ops can post here: waiting for more CQEs than ops in flight
            # could never end (a multishot op may post more; the caller loops for those).
            return self.in_flight
        return wait_nr

    def submit_and_wait(self, unsigned wait_nr=1, timeout=None, min_wait=None) -> int:
        """Submit what is queued and process completions until `wait_nr` CQEs have been
        processed (at most as many as ops in flight, unless foreign_cqe_handler expects
        CQEs from elsewhere) or `timeout` seconds pass. With `min_wait` (seconds, FEAT_MIN_TIMEOUT)
        the kernel waits that long for all `wait_nr`, then returns as soon as any CQE is
        there. Returns the number of CQEs processed."""
        self._check()
        self.last_sqe_flags = NULL
        self._in()
        try:
            if timeout is None and min_wait is None and not self.multi_waiters:
                return self._wait_untimed(wait_nr)
            return self._wait_timeout(wait_nr, timeout, min_wait)
        finally:
            self._out()

    def wait(self, unsigned wait_nr=1, timeout=None, min_wait=None) -> int:
        """Wait for completions (submitting anything still queued first, as a wait on
        unsubmitted work would never end). Returns the number of CQEs processed."""
        return self.submit_and_wait(wait_nr, timeout, min_wait)

    def _wait_progress(self, timeout=None) -> int:
        """Submit, then wait (up to `timeout` seconds) until at least one CQE is there or
        another thread reaped something; process what is ready. For wait_for()."""
        self._check()
        self.last_sqe_flags = NULL
        self._in()
        try:
            if self.in_flight == 0 and self.foreign_cqe_handler is None:
                return self._reap(REAP_ALL)
            if timeout is None and not self.multi_waiters:
                return self._wait_untimed(1)
            return self._wait_timeout(1, timeout, None)
        finally:
            self._out()

    cdef int _spin_sqpoll(self, unsigned wait_nr) except -1:
        """Under SQPOLL the kernel thread is already working: a short spin on the CQ often
        finds the completions without a syscall."""
        cdef int i
        for i in range(SQPOLL_SPINS):
            if u_load_acquire(self.cq_ktail) - self.cq_khead[0] >= wait_nr:
                break
            u_cpu_relax()
        return 0

    cdef unsigned _wait_untimed(self, unsigned wait_nr) except? 4294967295U:
        cdef unsigned done
        wait_nr = self._clamp_wait(wait_nr)
        if wait_nr and u_load_acquire(self.cq_ktail) - self.cq_khead[0] >= wait_nr:
            self._submit(0, 0)
        elif wait_nr and self.setup_flags & SETUP_SQPOLL:
            self._submit(0, 0)
            self._spin_sqpoll(wait_nr)
            if u_load_acquire(self.cq_ktail) - self.cq_khead[0] < wait_nr:
                self._submit(wait_nr, 0)
        else:
            self._submit(wait_nr, 0)
        done = self._reap(REAP_ALL)
        while done < wait_nr:
            if self.closing:
                self._closed_midway()
                break
            if self.in_flight == 0 and self.foreign_cqe_handler is None:
                break   # another thread reaped what we were waiting for
            if self.multi_waiters:
                return done + self._wait_timeout(wait_nr - done, None, None)
            self._submit(min(wait_nr - done, self.cq_entries), 0)
            done += self._reap(REAP_ALL)
        return done

    cdef unsigned _wait_timeout(self, unsigned wait_nr, object timeout, object min_wait=None) except? 4294967295U:
        """Timed waits (EXT_ARG). With other threads waiting on this ring too, untimed waits
        come here as well and sleep in slices: a thread that reaps another's op wakes it,
        and the slice bounds the rare wake that lands before the sleeper entered."""
        cdef u_getevents_arg arg
        cdef u_timespec ts
        cdef double deadline = 0, left, slice_end
        cdef unsigned done
        cdef uint32_t min_usec = 0
        cdef long ret
        cdef uint32_t tail, to_submit
        cdef unsigned flags
        cdef bint sliced = timeout is None and min_wait is None
        if not (self.features & FEAT_EXT_ARG):
            if sliced:
                return self._wait_untimed_plain(wait_nr)
            raise _errors.UnsupportedFeature("waiting with a timeout needs IORING_FEAT_EXT_ARG (Linux 5.11)")
        if min_wait is not None:
            if not (self.features & FEAT_MIN_TIMEOUT):
                raise _errors.UnsupportedFeature("min_wait needs IORING_FEAT_MIN_TIMEOUT (Linux 6.12)")
            min_usec = <uint32_t>min(_errors.seconds(min_wait) * 1e6, 4294967295.0)
        if timeout is not None:
            deadline = _monotonic() + _errors.seconds(timeout)
        self._submit(0, 0)
        done = self._reap(REAP_ALL)
        if min_usec and done:
            # The kernel only counts CQEs that arrive during the wait: with some already in
            # hand, "return once anything is there" means waiting for the rest up to min_wait.
            left = _monotonic() + min_usec / 1e6
            if timeout is None or left < deadline:
                deadline = left
                timeout = min_wait
            min_usec = 0
        while done < wait_nr:
            if self.closing:
                self._closed_midway()
                break
            if sliced and self.in_flight == 0 and self.foreign_cqe_handler is None:
                break
            memset(&arg, 0, sizeof(arg))
            arg.min_wait_usec = min_usec
            if timeout is not None:
                left = deadline - _monotonic()
                if left <= 0:
                    break
                if sliced and left > 0.02:
                    left = 0.02
            elif sliced:
                left = 0.02
            else:
                left = -1
            if left >= 0:
                ts.tv_sec = <int64_t>left
                ts.tv_nsec = <int64_t>((left - ts.tv_sec) * 1e9)
                arg.ts = <uint64_t>&ts
            # Whatever the kernel left in the SQ (it stops at an SQE it rejects) goes along.
            tail = self.sqe_tail
            u_store_release(self.sq_ktail, tail)
            flags = ENTER_GETEVENTS | ENTER_EXT_ARG
            to_submit = 0
            if self.setup_flags & SETUP_SQPOLL:
                u_full_barrier()
                if self.sq_kflags[0] & SQ_NEED_WAKEUP:
                    flags |= ENTER_SQ_WAKEUP
            else:
                to_submit = tail - u_load_acquire(self.sq_khead)
            ret = self._enter(to_submit, min(wait_nr - done, self.cq_entries), flags, &arg, sizeof(arg))
            done += self._reap(REAP_ALL)
            if (ret == -1 and not sliced) or (min_usec and done):
                break
            if ret == -1 and sliced and timeout is not None and deadline - _monotonic() <= 0:
                break
        return done

    cdef unsigned _wait_untimed_plain(self, unsigned wait_nr) except? 4294967295U:
        """Pre-5.11 kernels (no EXT_ARG): no slices, plain blocking waits."""
        cdef unsigned done = 0
        wait_nr = self._clamp_wait(wait_nr)
        while done < wait_nr and not self.closing:
            if self.in_flight == 0 and self.foreign_cqe_handler is None:
                break
            self._submit(min(wait_nr - done, self.cq_entries), 0)
            done += self._reap(REAP_ALL)
        return done

    def peek(self, max=None) -> int:
        """Process completions that are ready without blocking: all of them, or at most
        `max`. No syscall unless the kernel holds completions back (overflow, deferred task
        work it flags with TASKRUN_FLAG, or a DEFER_TASKRUN/IOPOLL ring that cannot say)."""
        self._check()
        cdef unsigned limit = REAP_ALL
        if max is not None:
            if max < 0:
                raise ValueError(f"max must be >= 0, got {max}")
            limit = <unsigned>min(max, REAP_ALL)
            if limit == 0:
                return 0
        cdef unsigned n
        cdef uint32_t kflags
        self._in()
        try:
            n = self._reap(limit)
            if n == 0:
                kflags = self.sq_kflags[0]
                if (kflags & (SQ_CQ_OVERFLOW | SQ_TASKRUN)) or (self.setup_flags & SETUP_IOPOLL) or (
                        (self.setup_flags & SETUP_DEFER_TASKRUN) and not (self.setup_flags & SETUP_TASKRUN_FLAG)):
                    self._enter(0, 0, ENTER_GETEVENTS, NULL, 0)
                    n = self._reap(limit)
            return n
        finally:
            self._out()

    cpdef unsigned cq_ready(self):
        """CQEs posted and not yet processed."""
        self._check()
        return u_load_acquire(self.cq_ktail) - self.cq_khead[0]

    @property
    def cq_eventfd_enabled(self) -> bool:
        """Whether a registered eventfd is signalled for new CQEs (IORING_CQ_EVENTFD_DISABLED
        clear); set it False to mute it while processing, as io_uring_cq_eventfd_toggle does."""
        self._check()
        if self.cq_kflags == NULL:
            return True
        return not (u_load_acquire(self.cq_kflags) & CQ_EVENTFD_DISABLED)

    @cq_eventfd_enabled.setter
    def cq_eventfd_enabled(self, bint enabled):
        self._check()
        if self.cq_kflags == NULL:
            raise _errors.UnsupportedFeature("this kernel has no CQ ring flags (IORING_CQ_EVENTFD_DISABLED, Linux 5.8)")
        cdef uint32_t flags = u_load_acquire(self.cq_kflags)
        if enabled:
            flags &= ~(<uint32_t>CQ_EVENTFD_DISABLED)
        else:
            flags |= CQ_EVENTFD_DISABLED
        u_store_release(self.cq_kflags, flags)

    def cq_eventfd_toggle(self, bint enabled) -> None:
        """io_uring_cq_eventfd_toggle(): see cq_eventfd_enabled."""
        self.cq_eventfd_enabled = enabled

    @property
    def cq_overflow_flag(self) -> bool:
        return bool(self.sq_kflags[0] & SQ_CQ_OVERFLOW) if self.sq_ring_ptr != NULL else False

    @property
    def sq_flags(self) -> int:
        return self.sq_kflags[0] if self.sq_ring_ptr != NULL else 0

    @property
    def dropped(self) -> int:
        """SQEs the kernel dropped as invalid (sq.dropped)."""
        return self.sq_kdropped[0] if self.sq_ring_ptr != NULL else 0

    @property
    def cq_overflow(self) -> int:
        """CQEs the kernel could not post at all (cq.overflow; stays 0 with FEAT_NODROP)."""
        return self.cq_koverflow[0] if self.cq_ring_ptr != NULL else 0

    # -- CQ side ------------------------------------------------------------------

    cdef unsigned _reap(self, unsigned limit) except? 4294967295U:
        """Copy out ready CQEs in batches, free the CQ slots, then complete their ops."""
        cdef u_cqe batch[REAP_BATCH]
        cdef uint64_t bigs[REAP_BATCH * 2]
        cdef u_cqe *cqe
        cdef uint32_t head, tail, n, i
        cdef unsigned total = 0
        cdef unsigned finished = 0
        cdef object first_error = None
        cdef bint big = self.cqe_shift != 0
        while total < limit and self.cq_ring_ptr != NULL:
            head = self.cq_khead[0]
            tail = u_load_acquire(self.cq_ktail)
            n = 0
            while head != tail and n < REAP_BATCH and total + n < limit:
                cqe = <u_cqe *>(self.cqes + ((head & self.cq_mask) << (4 + self.cqe_shift)))
                batch[n] = cqe[0]
                if big:
                    bigs[2 * n] = (<uint64_t *>(cqe + 1))[0]
                    bigs[2 * n + 1] = (<uint64_t *>(cqe + 1))[1]
                head += 1
                n += 1
            if n == 0:
                break
            u_store_release(self.cq_khead, head)
            for i in range(n):
                try:
                    if big:
                        self._stash_big(batch[i].user_data, bigs[2 * i], bigs[2 * i + 1])
                    finished += self._complete(batch[i].user_data, batch[i].res, batch[i].flags)
                except BaseException as exc:
                    # A callback failed: finish the batch first so no completion is lost.
                    if first_error is None:
                        first_error = exc
            total += n
        if finished and self.waiters and not self.closing:
            self._post_wake()   # another thread may be asleep waiting for an op we just finished
        if first_error is not None:
            raise first_error
        return total

    cdef void _stash_big(self, uint64_t user_data, uint64_t b0, uint64_t b1) noexcept:
        cdef uint32_t slot = <uint32_t>user_data
        cdef Op op
        if slot < self.cap and self.gens[slot] == <uint32_t>(user_data >> 32) and self.slots[slot] != NULL:
            op = <Op>self.slots[slot]
            op.big0 = b0
            op.big1 = b1
            op.has_big = True

    cdef int _complete(self, uint64_t user_data, int32_t res, uint32_t flags) except -1:
        """Deliver one CQE; returns 1 if it finished one of our ops."""
        cdef uint32_t slot = <uint32_t>user_data
        cdef uint32_t gen = <uint32_t>(user_data >> 32)
        cdef Op op
        if user_data == INTERNAL_BIT:
            return 0  # our own cancel-all at close, or a wake-up
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
        try:
            if op.out is not None:
                finish = getattr(op.out, "_finish", None)
                if finish is not None:
                    finish(op)  # lets the decoder of kernel-written data see the final result
            if op.callback is not None:
                callback = op.callback
                op.callback = None
                if type(callback) is _direct_type:
                    _direct_done(callback, op, res, flags)   # uring.aio's OpFuture: a C call
                else:
                    callback(op, res, flags)
            elif self.completions is not None:
                self.completions.append(op)
        finally:
            Py_DECREF(op)
        return 1

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

    cdef int _post_wake(self) except -1:
        """Post a CQE nobody owns so that threads asleep in io_uring_enter wake up and look
        again. Sync MSG_RING (6.13) needs no SQ slot and works from any thread; else a NOP,
        unless a linked chain is half-written (the NOP would join it)."""
        cdef u_sqe msg
        cdef long ret
        cdef u_sqe *sqe
        if self.waking or self.fd < 0:
            return 0
        self.waking = True
        try:
            if self.msg_wake_ok:
                memset(&msg, 0, sizeof(u_sqe))
                msg.opcode = OP_MSG_RING
                msg.fd = self.fd
                msg.off = INTERNAL_BIT
                with nogil:
                    ret = u_register(-1, REGISTER_SEND_MSG_RING, &msg, 1)
                if ret >= 0:
                    return 0
                self.msg_wake_ok = False
            if self.last_sqe_flags != NULL and (self.last_sqe_flags[0] & (IOSQE_IO_LINK | IOSQE_IO_HARDLINK)):
                return 0
            if self.sqe_tail - u_load_acquire(self.sq_khead) >= self.sq_entries:
                return 0
            try:
                sqe = self._next_sqe()
                memset(sqe, 0, sizeof(u_sqe))
                sqe.fd = -1
                sqe.user_data = INTERNAL_BIT
                self.last_sqe_flags = NULL
                self._submit(0, 0)
            except Exception:
                pass   # e.g. a SINGLE_ISSUER ring driven from another thread: the slices cover it
        finally:
            self.waking = False
        return 0

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
        self._in()
        try:
            while True:
                with nogil:
                    ret = u_register(fd, opcode, ptr, nr)
                    err = errno
                if ret >= 0:
                    if opcode in (0, 1, 15, 16, 30):
                        # A buffer table changed: unknown here until register.py mirrors it.
                        self.fixed_count = -1
                    return ret
                if err == EINTR:
                    PyErr_CheckSignals()
                    continue
                raise OSError(err, _os.strerror(err))
        finally:
            self._out()

    # -- teardown -----------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self.fd < 0 or self.closing

    def close(self, *, double timeout=5.0):
        """Cancel what is in flight, reap until nothing is (at most `timeout` seconds), unmap
        and close the fd. Safe from op callbacks, signal handlers and other threads: while
        any thread is inside the ring (waiting or reaping), the ring is marked closed, what is
        in flight is cancelled and sleepers are woken; the last one out finishes the close."""
        if self.fd < 0:
            return
        if self.fork_gen != _fork_generation:
            # The parent owns the ring's requests; the child only drops its mappings.
            self._unmap_and_close()
            return
        if self.closing:
            return
        self.closing = True
        self.closer_ident = <long>PyThread_get_thread_ident()
        self.close_timeout = timeout
        if self.busy == 0:
            self._finish_close()
            return
        # Counted inside while cancelling: the cancel enters the kernel with the GIL
        # released, and the last thread out must not unmap under us meanwhile.
        self._in()
        try:
            self._cancel_everything()
            if self.waiters:
                self._post_wake()
        except Exception:
            pass
        finally:
            self._out()   # if everyone else left meanwhile, this finishes the close
        if u_tl_get() == 0:
            # Other threads are inside: they finish the close on their way out; wait for it
            # (the GIL is released while sleeping) so close() returns a closed ring.
            deadline = _monotonic() + timeout
            while self.fd >= 0 and self.busy and _monotonic() < deadline:
                with nogil:
                    usleep(500)
            if self.fd >= 0 and self.busy == 0:
                self._finish_close()

    cdef int _cancel_everything(self) except -1:
        """Submit what is queued, then cancel every request: synchronously through
        io_uring_register (6.0; not held back behind an IOSQE_IO_DRAIN, unlike an SQE), and
        with an ASYNC_CANCEL SQE (ours, user_data tagged internal) where that is missing."""
        cdef u_sqe *sqe
        cdef u_sync_cancel reg
        cdef long ret
        self.last_sqe_flags = NULL
        self._submit(0, 0)
        if self.in_flight and self.sync_cancel_ok:
            memset(&reg, 0, sizeof(reg))
            reg.fd = -1
            reg.flags = CANCEL_ALL | CANCEL_ANY
            reg.timeout.tv_nsec = 1000000   # wait at most 1 ms here; the drain loop waits
            with nogil:
                ret = u_register(self.fd, REGISTER_SYNC_CANCEL, &reg, 1)
            if ret < 0 and errno == EINVAL:
                self.sync_cancel_ok = False
            if self.sync_cancel_ok:
                return 0
        if self.in_flight:
            if self.sq_entries - (self.sqe_tail - u_load_acquire(self.sq_khead)) < 1:
                self._make_room()
            sqe = self._next_sqe()
            memset(sqe, 0, sizeof(u_sqe))
            sqe.opcode = OP_ASYNC_CANCEL
            sqe.fd = -1
            sqe.op_flags = CANCEL_ALL | CANCEL_ANY
            sqe.user_data = INTERNAL_BIT
            self.last_sqe_flags = NULL
            self._submit(0, 0)
        return 0

    cdef int _finish_close(self) except -1:
        """Drain (repeating the cancel: an op behind a HARDLINK or a DRAIN only starts once
        the one before it ended), then unmap and close. Runs with nobody else inside."""
        cdef double deadline = _monotonic() + self.close_timeout
        cdef double next_cancel = 0
        cdef object first_error = None
        self.busy += 1   # callbacks run by the drain must not start another finish
        try:
            # Another thread is the SINGLE_ISSUER: the kernel refuses our enters and our
            # cancels (EEXIST), so what is in flight can only be abandoned (below).
            while self.in_flight and (self.issuer == 0 or
                                      self.issuer == <long>PyThread_get_thread_ident()):
                now = _monotonic()
                if now >= deadline:
                    break
                try:
                    if now >= next_cancel:
                        self._cancel_everything()
                        next_cancel = now + 0.05
                    self._wait_timeout(1, min(0.05, max(deadline - now, 0.001)))
                except _errors.RingClosed:
                    pass
                except OSError as exc:
                    if exc.errno in (16, 17):   # EBUSY, EEXIST (another thread's SINGLE_ISSUER ring)
                        break
                    if first_error is None:
                        first_error = exc
                except BaseException as exc:
                    # A callback failed (or Ctrl-C): keep draining, report it afterwards.
                    if first_error is None:
                        first_error = exc
            if self.in_flight:
                _warnings.warn(f"closing a ring with {self.in_flight} ops still owned by the kernel; "
                               "their buffers are kept alive forever", ResourceWarning, stacklevel=3)
                self._abandon_in_flight()
        finally:
            self.busy -= 1
            self._unmap_and_close()
        if first_error is not None:
            raise first_error
        return 0

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
        if self.fd >= 0 and not self.closing:
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
        free(self.fixed_spans)
        self.fixed_spans = NULL
        self._unmap_and_close()


def sync_msg_ring(Sqe sqe not None) -> int:
    """io_uring_register_sync_msg(): run a prepared MSG_RING SQE (ops.msg_ring, ...) without
    a source ring (IORING_REGISTER_SEND_MSG_RING on fd -1, Linux 6.13): posts the CQE on
    the target ring from any thread. Returns the kernel's result."""
    cdef long ret
    cdef int err
    if sqe.s.opcode != OP_MSG_RING:
        raise ValueError("sync_msg_ring takes a MSG_RING SQE (ops.msg_ring / msg_ring_cqe_flags)")
    with nogil:
        ret = u_register(-1, REGISTER_SEND_MSG_RING, &sqe.s, 1)
        err = errno
    if ret < 0:
        if err == EINVAL:
            raise _errors.UnsupportedFeature(
                "IORING_REGISTER_SEND_MSG_RING (sync MSG_RING) unsupported on this kernel (needs Linux 6.13)")
        raise OSError(err, _os.strerror(err))
    return ret
