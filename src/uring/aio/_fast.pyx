# cython: language_level=3, boundscheck=False, wraparound=False
"""The awaitable side of an op, compiled: OpFuture speaks asyncio's Future protocol, is the
op's own CQE callback, and wakes its task straight from the completion (no Future, no Handle)."""

cimport cython
from cpython.pythread cimport PyThread_get_thread_ident
from cpython.pycapsule cimport PyCapsule_New, PyCapsule_GetPointer
from libc.stdint cimport int32_t, uint32_t

cdef extern from "Python.h":
    int PyContext_Enter(object ctx) except -1
    int PyContext_Exit(object ctx) except -1

# Awaiting an OpFuture without the Python-level __next__: a finished op's result goes back
# to the coroutine through am_send (3.10/3.11's SEND asks the awaitable that first) with no
# exception at all, or through a tp_iternext that sets StopIteration without the traceback
# entry a Cython def adds to every exception it raises (that entry, a frame object and a
# StopIteration per read, was a tenth of the instructions of an awaited page-cached read).
cdef extern from *:
    """
    typedef PyObject *(*opf_outcome_fn)(PyObject *);
    static opf_outcome_fn opf_outcome;

    static PyObject *opf_iternext(PyObject *self) {
        PyObject *r = opf_outcome(self);
        if (r == NULL || r == self)
            return r;
        if (PyTuple_Check(r) || PyExceptionInstance_Check(r)) {
            /* PyErr_SetObject would unpack a tuple or take an exception as the error */
            PyObject *stop = PyObject_CallOneArg(PyExc_StopIteration, r);
            Py_DECREF(r);
            if (stop == NULL)
                return NULL;
            PyErr_SetObject(PyExc_StopIteration, stop);
            Py_DECREF(stop);
        } else {
            PyErr_SetObject(PyExc_StopIteration, r);
            Py_DECREF(r);
        }
        return NULL;
    }

    #if PY_VERSION_HEX >= 0x030A0000
    static PySendResult opf_am_send(PyObject *self, PyObject *arg, PyObject **presult) {
        PyObject *r = opf_outcome(self);
        *presult = r;
        if (r == NULL)
            return PYGEN_ERROR;
        return r == self ? PYGEN_NEXT : PYGEN_RETURN;
    }
    #endif

    static int opf_install(PyObject *type, opf_outcome_fn outcome) {
        PyTypeObject *t = (PyTypeObject *)type;
        opf_outcome = outcome;
        t->tp_iternext = opf_iternext;
    #if PY_VERSION_HEX >= 0x030A0000
        if (t->tp_as_async != NULL)
            t->tp_as_async->am_send = opf_am_send;
    #endif
        PyType_Modified(t);
        return 0;
    }

    /* The C Task's done-callback is a builtin method "task_wakeup" bound to the task; it
       only asks the future for result() to learn whether to throw, then steps the task. */
    static PyMethodDef *opf_wakeup_def = NULL;

    static int opf_is_task_wakeup(PyObject *fn, PyObject *task_type) {
        PyMethodDef *ml;
        PyObject *owner;
        if (!PyCFunction_Check(fn))
            return 0;
        ml = ((PyCFunctionObject *)fn)->m_ml;
        if (ml == opf_wakeup_def)
            return 1;
        if (opf_wakeup_def != NULL || strcmp(ml->ml_name, "task_wakeup") != 0)
            return 0;
        owner = PyCFunction_GET_SELF(fn);
        if (owner == NULL || task_type == NULL || !PyObject_TypeCheck(owner, (PyTypeObject *)task_type))
            return 0;
        opf_wakeup_def = ml;
        return 1;
    }
    """
    ctypedef object (*opf_outcome_fn)(object)
    int opf_install(object type, opf_outcome_fn outcome) except -1
    bint opf_is_task_wakeup(object fn, object task_type)

from asyncio import CancelledError, InvalidStateError
from uring import _core

# The core's C entry points (see uring/_core.pyx): queue a read/write without a Python-level
# method call, and have it complete our futures with a C call (_op_done) instead of
# OpFuture.__call__.
ctypedef object (*capi_rw_fn)(object ring, bint write, int32_t fd, object buf, object nbytes,
                              object offset, object callback)
cdef capi_rw_fn _core_rw = <capi_rw_fn>PyCapsule_GetPointer(_core.capi_rw, "uring._core.rw")
from _asyncio import get_running_loop as _get_running_loop, Future as _CFuture, Task as _CTask

cdef class DriverBase:
    """The per-loop state the hot paths touch, as C fields (uring.aio._driver.Driver adds
    the set-up, the flush and the teardown): the loop, its ring and the ring's bound
    fast-path methods, whether a flush is scheduled (`pending`), whether our own dispatch
    is running outside any task (`dispatching`), and the eager-submit credit."""

    cdef public object loop
    cdef public object ring
    cdef public object ring_read
    cdef public object ring_write
    cdef public object ring_send
    cdef public object ring_recv
    cdef public object ring_nop
    cdef public object ring_queue
    cdef public bint pending
    cdef public bint dispatching
    cdef public long credit
    cdef public object flush_callback
    # A finished asyncio Future (C type, result None): what a C Task's wake-up callback is
    # given instead of the OpFuture, so it takes its native-future fast path (no result()
    # method call) before stepping the task, whose await then fetches the op's own result.
    cdef public object done_future
    # The ring's read/write are RingCore's own: queue through the core's C entry point.
    cdef public bint direct_rw

    def _bind(self, ring):
        fut = self.loop.create_future()
        if type(fut) is _CFuture:
            fut.set_result(None)
            self.done_future = fut
        self.ring = ring
        self.direct_rw = (isinstance(ring, _core.RingCore) and type(ring).read is _core.RingCore.read
                          and type(ring).write is _core.RingCore.write)
        self.ring_read = ring.read
        self.ring_write = ring.write
        self.ring_send = ring.send
        self.ring_recv = ring.recv
        self.ring_nop = ring.nop
        self.ring_queue = ring.queue

    cpdef schedule(self):
        """Make sure the SQEs queued in this loop iteration reach the kernel at its end."""
        self.pending = True
        self.loop.call_soon(self.flush_callback)


cdef int PENDING = 0
cdef int FINISHED = 1
cdef int CANCELLED = 2


@cython.freelist(256)
cdef class OpFuture:
    """Result of one ring op, awaitable once by a task (or used as a Future by gather,
    wait_for, shield...). Created by the uring.aio op functions, which give it to the ring
    as the op's callback; the final CQE sets the result (res, or `convert(op, res)`) or the
    OSError, and runs the done-callbacks at once when its driver is dispatching from the
    loop (outside any task), else through loop.call_soon. cancel() cancels the kernel op
    (ASYNC_CANCEL); the op keeps its buffers pinned until its own final CQE."""

    cdef public object _asyncio_future_blocking
    cdef public object _log_traceback
    cdef public object _log_destroy_pending
    cdef public object _cancel_message
    cdef public object op
    cdef public object convert
    cdef object _loop
    cdef DriverBase _driver
    cdef object _result
    cdef object _exception
    cdef int _state
    cdef object _cb
    cdef object _ctx
    cdef list _more
    cdef bint _cb_is_wakeup   # _cb is a C Task's wake-up: see DriverBase.done_future

    def __cinit__(self):
        self._asyncio_future_blocking = False
        self._log_traceback = False
        self._log_destroy_pending = False

    # -- completion (the ring calls this for every CQE of the op) --------------------------

    def __call__(self, op, int res, unsigned flags):
        _op_done(self, op, res, flags)

    cdef _wake(self):
        cb = self._cb
        if cb is None:
            return
        self._cb = None
        more = self._more
        self._more = None
        cdef DriverBase driver = self._driver
        arg = self
        if self._cb_is_wakeup and driver.done_future is not None:
            arg = driver.done_future
        if driver.dispatching:
            # Runs the task step right here; anything it reaps itself (an eager submit)
            # happens inside that task and must go through call_soon.
            driver.dispatching = False
            try:
                _run_callback(self._loop, cb, arg, self._ctx)
            finally:
                driver.dispatching = True
        else:
            self._loop.call_soon(cb, arg, context=self._ctx)
        if more:
            for cb, ctx in more:
                self._loop.call_soon(cb, self, context=ctx)

    # -- the Future protocol ------------------------------------------------------------------

    def __await__(self):
        return self

    def __iter__(self):
        return self

    def __next__(self):
        # What a direct call sees; `await` goes through opf_iternext/opf_am_send instead.
        out = _outcome(self)
        if out is self:
            return self
        raise StopIteration(out)

    def send(self, value):
        return self.__next__()

    def throw(self, typ, val=None, tb=None):
        if val is None:
            raise typ
        raise val

    def get_loop(self):
        return self._loop

    def add_done_callback(self, fn, *, context=None):
        if self._state != PENDING:
            self._loop.call_soon(fn, self, context=context)
        elif self._cb is None:
            self._cb = fn
            self._ctx = context
            self._cb_is_wakeup = opf_is_task_wakeup(fn, _CTask)
        else:
            if self._more is None:
                self._more = []
            self._more.append((fn, context))

    def remove_done_callback(self, fn):
        cdef int n = 0
        if self._cb is not None and self._cb == fn:
            self._cb = None
            self._ctx = None
            n = 1
        if self._more:
            keep = [(f, c) for f, c in self._more if f != fn]
            n += len(self._more) - len(keep)
            self._more = keep
        if self._cb is None and self._more:
            self._cb, self._ctx = self._more.pop(0)
        self._cb_is_wakeup = self._cb is not None and opf_is_task_wakeup(self._cb, _CTask)
        return n

    def done(self):
        return self._state != PENDING

    def cancelled(self):
        return self._state == CANCELLED

    def result(self):
        if self._state == FINISHED:
            if self._exception is not None:
                raise self._exception
            return self._result
        if self._state == CANCELLED:
            raise self._make_cancelled_error()
        raise InvalidStateError("Result is not ready.")

    def exception(self):
        if self._state == FINISHED:
            return self._exception
        if self._state == CANCELLED:
            raise self._make_cancelled_error()
        raise InvalidStateError("Exception is not set.")

    def _make_cancelled_error(self):
        if self._cancel_message is None:
            return CancelledError()
        return CancelledError(self._cancel_message)

    def cancel(self, msg=None):
        """Cancel the kernel op too (its buffers stay pinned until its final CQE)."""
        if self._state != PENDING:
            return False
        self._state = CANCELLED
        self._cancel_message = msg
        op = self.op
        if op is not None and not op.done:
            self._driver.cancel_op(op)
        cb = self._cb
        if cb is not None:
            self._cb = None
            self._loop.call_soon(cb, self, context=self._ctx)
        if self._more:
            for cb, ctx in self._more:
                self._loop.call_soon(cb, self, context=ctx)
            self._more = None
        return True

    def __repr__(self):
        state = ("pending", "finished", "cancelled")[self._state]
        return f"<OpFuture {state} {self.op!r}>"


cdef int _op_done(object o, object op, int32_t res, uint32_t flags) except -1:
    """The op's CQE (the core calls this directly for the final one, see _set_direct_callback)."""
    cdef OpFuture fut = <OpFuture>o
    if flags & 2:   # IORING_CQE_F_MORE: only final CQEs end a one-shot future
        return 0
    if fut._state != PENDING:
        return 0    # cancelled: the core closed any fd it made after the cancel
    if res >= 0:
        fut._result = res if fut.convert is None else fut.convert(op, res)
    else:
        fut._exception = op.exception()
    fut._state = FINISHED
    fut._wake()
    return 0


_core._set_direct_callback(OpFuture, PyCapsule_New(<void *>_op_done, "uring._core.direct_done", NULL))


cdef object _outcome(object o):
    """What awaiting `o` gives now: itself while pending (the task must wait for it), else
    its result; raises its exception or CancelledError."""
    cdef OpFuture fut = <OpFuture>o
    if fut._state == PENDING:
        fut._asyncio_future_blocking = True
        return fut
    if fut._state == FINISHED and fut._exception is None:
        return fut._result
    return fut.result()


opf_install(OpFuture, _outcome)


cdef int _run_callback(object loop, object cb, object arg, object ctx) except -1:
    """Run a done-callback now (our own dispatch, outside any task) in its context: what
    Context.run does, without a bound method per wake-up; its errors go to the loop's
    exception handler, as a Handle's would, not into the ring's completion processing."""
    try:
        if ctx is None:
            cb(arg)
        else:
            PyContext_Enter(ctx)
            try:
                cb(arg)
            finally:
                PyContext_Exit(ctx)
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException as exc:
        loop.call_exception_handler({
            "message": f"Exception in callback {cb!r}",
            "exception": exc,
        })
    return 0


cdef object _cached_loop = None
cdef DriverBase _cached_driver = None
cdef long _cached_thread = 0
cdef object _cached_tid = None   # the loop's own _thread_id object when cached (stdlib loops)
cdef object _make_driver = None


def _set_driver_factory(factory):
    global _make_driver
    _make_driver = factory


def _forget():
    """Drop the cached (loop, driver) pair (loop closed, fork)."""
    global _cached_loop, _cached_driver, _cached_thread, _cached_tid
    _cached_loop = None
    _cached_driver = None
    _cached_thread = 0
    _cached_tid = None


cdef inline DriverBase _driver():
    # asyncio.get_running_loop() makes a getpid() syscall on 3.11 (~0.6 us here, a sixth of
    # a page-cached read): remember the loop last seen running in this thread and check it
    # still is with an attribute read (stdlib: loop._thread_id) or loop.is_running().
    # The stdlib loop sets _thread_id to a fresh int each time it starts and to None when
    # it stops, so finding the very object seen at caching time (an identity test, no int
    # made from our thread id) means it still runs in the thread that cached it.
    global _cached_loop, _cached_driver, _cached_thread, _cached_tid
    cdef long me = PyThread_get_thread_ident()
    loop = _cached_loop
    if loop is not None and me == _cached_thread:
        if _cached_tid is not None:
            if loop._thread_id is _cached_tid:
                return _cached_driver
        elif loop.is_running():
            return _cached_driver
    loop = _get_running_loop()
    driver = _make_driver(loop)
    _cached_loop = loop
    _cached_driver = driver
    _cached_thread = me
    tid = getattr(loop, "_thread_id", None)
    _cached_tid = tid if tid is not None and tid == me else None
    return driver


cdef inline OpFuture _future(DriverBase driver):
    cdef OpFuture fut = OpFuture.__new__(OpFuture)
    fut._loop = driver.loop
    fut._driver = driver
    return fut


cdef inline object _start(DriverBase driver, OpFuture fut, object op):
    fut.op = op
    if not driver.pending:
        driver.schedule()
    return fut


cdef inline object _start_eager(DriverBase driver, OpFuture fut, object op):
    """File reads and writes of page-cached data complete inside io_uring_enter: entering
    now (up to the driver's per-iteration credit, for fairness) hands the task a finished
    future, so it goes on without a suspension and a wake-up."""
    fut.op = op
    if driver.credit > 0:
        driver.credit -= 1
        ring = driver.ring
        ring.submit()
        ring.peek()
    if not driver.pending:
        driver.schedule()
    return fut


def read(int fd, buf, nbytes=None, offset=0):
    """IORING_OP_READ into `buf` (liburing's order: nbytes None = all of buf, offset -1 =
    the file position); await it for the bytes read."""
    cdef DriverBase driver = _driver()
    cdef OpFuture fut = _future(driver)
    if driver.direct_rw:
        return _start_eager(driver, fut, _core_rw(driver.ring, False, fd, buf, nbytes, offset, fut))
    return _start_eager(driver, fut, driver.ring_read(fd, buf, nbytes, offset, callback=fut))


def write(int fd, buf, nbytes=None, offset=0):
    """IORING_OP_WRITE from `buf`; await it for the bytes written."""
    cdef DriverBase driver = _driver()
    cdef OpFuture fut = _future(driver)
    if driver.direct_rw:
        return _start_eager(driver, fut, _core_rw(driver.ring, True, fd, buf, nbytes, offset, fut))
    return _start_eager(driver, fut, driver.ring_write(fd, buf, nbytes, offset, callback=fut))


def send(int fd, buf, flags=0):
    """IORING_OP_SEND of the whole of `buf`; await it for the bytes sent."""
    cdef DriverBase driver = _driver()
    cdef OpFuture fut = _future(driver)
    return _start(driver, fut, driver.ring_send(fd, buf, flags, callback=fut))


def recv(int fd, buf, flags=0):
    """IORING_OP_RECV into `buf`; await it for the bytes received (0 at EOF)."""
    cdef DriverBase driver = _driver()
    cdef OpFuture fut = _future(driver)
    return _start(driver, fut, driver.ring_recv(fd, buf, flags, callback=fut))


def nop():
    """IORING_OP_NOP: one trip through the ring; await it for 0."""
    cdef DriverBase driver = _driver()
    cdef OpFuture fut = _future(driver)
    return _start(driver, fut, driver.ring_nop(callback=fut))


def queue(sqe, convert=None):
    """Queue a prepared Sqe on the running loop's ring; returns its OpFuture. `convert(op,
    res)` turns a successful res into the result."""
    cdef DriverBase driver = _driver()
    cdef OpFuture fut = _future(driver)
    fut.convert = convert
    return _start(driver, fut, driver.ring_queue(sqe, callback=fut))


def current_driver():
    """The running loop's driver (cached per thread of calls)."""
    return _driver()
