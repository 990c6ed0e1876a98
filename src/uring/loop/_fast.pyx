# cython: language_level=3
"""The loop's hot paths compiled: callback handles, call_soon and one loop iteration
(timers, the ring wait, the ready queue), with asyncio's semantics; debug mode uses asyncio's."""

import heapq
import contextvars
from asyncio import base_events, events, format_helpers
from uring.loop._selector import RingSelector

cdef object _copy_context = contextvars.copy_context
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
            context = _copy_context()
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
        try:
            self._context.run(self._callback, *self._args)
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
    h._context = _copy_context() if context is None else context
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


def run_once(self):
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
        if timeout is None:
            ring.submit_and_wait(1)
        elif timeout == 0:
            ring.submit_and_wait(0)
        else:
            ring.submit_and_wait(1, timeout)
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
