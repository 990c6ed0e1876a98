"""What each io_uring instance of a process is doing, read from /proc/PID/fdinfo: sizes,
heads and tails, pending work, SQPOLL thread, registered resources; rates between samples.

    >>> from uring.stat import find_rings
    >>> for ring in find_rings():                 # every readable process  # doctest: +SKIP
    ...     print(ring.pid, ring.fd, ring.sq_pending, ring.cq_pending)

The fdinfo format changed across kernel releases (heads and tails appeared in 5.16, SQPOLL
times in 6.9, NAPI in 6.9, ...): every field is optional, unknown lines are kept in
`extra`, and entries of a list are recognised by their indentation or leading index.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Iterator

__all__ = ["RingStat", "parse_fdinfo", "ring_stat", "find_rings", "rates", "format_table",
           "IO_URING_LINK"]

IO_URING_LINK = "anon_inode:[io_uring]"
_U32 = 1 << 32
# Lines that open a list: the indented (or index-led) lines after them are its entries.
_SECTIONS = {"SQEs": "sqes", "CQEs": "cqes", "UserFiles": "files", "UserBufs": "buffers",
             "Personalities": "personalities", "PollList": "poll_list",
             "CqOverflowList": "overflow_list"}
_INT_FIELDS = {"SqHead": "sq_head", "SqTail": "sq_tail", "CachedSqHead": "cached_sq_head",
               "CqHead": "cq_head", "CqTail": "cq_tail", "CachedCqTail": "cached_cq_tail",
               "SqThread": "sq_thread", "SqThreadCpu": "sq_thread_cpu",
               "SqTotalTime": "sq_total_time_us", "SqWorkTime": "sq_work_time_us"}
_KEY_VALUE = re.compile(r"^(\S[^:]*):\s*(.*)$")
_INDEXED = re.compile(r"^\s*(\d+)\s*:\s*(.*)$")
_BUF = re.compile(r"0x([0-9a-fA-F]+)\s*/\s*(\d+)")
_PAIR = re.compile(r"(\w+)\s*[=:]\s*(-?(?:0x)?[0-9a-fA-F]+|[^,\s]+)")


@dataclass
class RingStat:
    """One io_uring instance as /proc/PID/fdinfo/FD shows it. A field the running kernel
    does not print is None (sizes, heads and tails before 5.16, SQPOLL times before 6.9)."""
    pid: int = 0
    fd: int = -1
    comm: str = ""
    sq_entries: int | None = None
    cq_entries: int | None = None
    sq_head: int | None = None
    sq_tail: int | None = None
    cached_sq_head: int | None = None
    cq_head: int | None = None
    cq_tail: int | None = None
    cached_cq_tail: int | None = None
    sq_pending: int | None = None        # SQEs queued, not yet consumed by the kernel
    cq_pending: int | None = None        # CQEs posted, not yet reaped by the application
    sq_thread: int | None = None         # SQPOLL kernel thread's pid, None without SQPOLL
    sq_thread_cpu: int | None = None
    sq_total_time_us: int | None = None
    sq_work_time_us: int | None = None
    files: int = 0                       # registered file table size
    buffers: int = 0                     # registered buffers
    file_names: list[str] = field(default_factory=list)
    buffer_list: list[tuple[int, int]] = field(default_factory=list)   # (address, length)
    personalities: list[int] = field(default_factory=list)
    poll_list: list[dict[str, Any]] = field(default_factory=list)
    overflow: int = 0                    # CQEs waiting in the kernel's overflow list
    overflow_list: list[dict[str, Any]] = field(default_factory=list)
    napi: str | None = None
    busy: bool = False                   # the kernel printed nothing: its ring lock was held
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def sqpoll(self) -> bool:
        return self.sq_thread is not None

    def to_json(self) -> dict[str, Any]:
        record = asdict(self)
        record["buffer_list"] = [{"addr": a, "len": n} for a, n in self.buffer_list]
        record["sqpoll"] = self.sqpoll
        return record


def _int(text: str) -> int | None:
    try:
        return int(text.split()[0], 0)
    except (ValueError, IndexError):
        return None


def _pairs(text: str) -> dict[str, Any]:
    """'op=6, task_works=0' or 'user_data:1, res:0, flag:0' as a dict (ints where they parse)."""
    out: dict[str, Any] = {}
    for key, value in _PAIR.findall(text):
        number = _int(value) if not value.startswith("0x") else int(value, 16)
        if number is None and re.fullmatch(r"[0-9a-fA-F]+", value) and key in ("flags", "flag"):
            number = int(value, 16)
        out[key] = value if number is None else number
    return out


def parse_fdinfo(text: str, *, pid: int = 0, fd: int = -1, comm: str = "") -> RingStat:
    """Parse the text of /proc/PID/fdinfo/FD of an io_uring fd, whatever the kernel version."""
    st = RingStat(pid=pid, fd=fd, comm=comm)
    section: str | None = None
    counts: dict[str, int] = {}
    for raw in text.splitlines():
        if not raw.strip():
            continue
        indexed = _INDEXED.match(raw)
        kv = _KEY_VALUE.match(raw)
        if section and (raw[0].isspace() or indexed):
            _section_entry(st, section, raw, indexed)
            continue
        if kv is None:
            continue
        key, value = kv.group(1).strip(), kv.group(2).strip()
        section = _SECTIONS.get(key)
        if section is not None:
            number = _int(value)
            if number is not None:
                counts[section] = number
            continue
        if key in _INT_FIELDS:
            setattr(st, _INT_FIELDS[key], _int(value))
        elif key == "SqMask":
            mask = _int(value)
            st.sq_entries = None if mask is None else mask + 1
        elif key == "CqMask":
            mask = _int(value)
            st.cq_entries = None if mask is None else mask + 1
        elif key == "NAPI":
            st.napi = value
        elif key not in ("pos", "flags", "mnt_id", "ino"):
            st.extra[key] = value
    if st.sq_thread is not None and st.sq_thread < 0:
        st.sq_thread = None
    if st.sq_thread_cpu is not None and st.sq_thread_cpu < 0:
        st.sq_thread_cpu = None
    st.files = counts.get("files", len(st.file_names))
    st.buffers = counts.get("buffers", len(st.buffer_list))
    st.overflow = len(st.overflow_list)
    # The kernel's own count of unconsumed SQEs/CQEs is capped at the ring size; the
    # head/tail difference (mod 2**32) is the same when both are printed.
    if st.sq_head is not None and st.sq_tail is not None:
        st.sq_pending = (st.sq_tail - st.sq_head) % _U32
    elif "sqes" in counts:
        st.sq_pending = counts["sqes"]
    if st.cq_head is not None and st.cq_tail is not None:
        st.cq_pending = (st.cq_tail - st.cq_head) % _U32
    elif "cqes" in counts:
        st.cq_pending = counts["cqes"]
    return st


def _section_entry(st: RingStat, section: str, raw: str, indexed: re.Match | None) -> None:
    body = indexed.group(2) if indexed else raw.strip()
    if section == "files":
        st.file_names.append(body)
    elif section == "buffers":
        m = _BUF.search(body)
        if m:
            st.buffer_list.append((int(m.group(1), 16), int(m.group(2))))
    elif section == "personalities":
        # "    1" then tab-indented "Uid: ..." credential lines belonging to it.
        if re.fullmatch(r"\s*\d+\s*", raw):
            st.personalities.append(int(raw))
    elif section == "poll_list":
        st.poll_list.append(_pairs(body))
    elif section == "overflow_list":
        st.overflow_list.append(_pairs(body))
    # sqes/cqes entries repeat what the heads and tails say: counted, not kept.


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


# Kernels since 5.16 print a ring's fdinfo only if they get its lock without waiting (the
# lock order with the seq file is the reverse of the ring's); a ring busy in
# io_uring_enter then shows nothing but the generic lines, so the read is retried.
_BUSY_RETRIES = 200


def ring_stat(fd: int, pid: int | None = None) -> RingStat:
    """The state of io_uring fd `fd` of process `pid` (this process by default). A ring
    whose lock stayed held through every retry comes back with busy=True and no figures."""
    pid = os.getpid() if pid is None else pid
    if os.readlink(f"/proc/{pid}/fd/{fd}") != IO_URING_LINK:
        raise ValueError(f"fd {fd} of process {pid} is not an io_uring instance")
    for attempt in range(_BUSY_RETRIES):
        with open(f"/proc/{pid}/fdinfo/{fd}") as f:
            text = f.read()
        if "SqThread" in text or "UserFiles" in text:   # printed by every kernel since 5.x
            break
        time.sleep(0 if attempt < 20 else 0.0005)
    st = parse_fdinfo(text, pid=pid, fd=fd, comm=_comm(pid))
    st.busy = "SqThread" not in text and "UserFiles" not in text
    return st


def _ring_fds(pid: int) -> Iterator[int]:
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:    # gone, or not ours to read
        return
    for name in names:
        try:
            if os.readlink(f"/proc/{pid}/fd/{name}") == IO_URING_LINK:
                yield int(name)
        except OSError:
            continue


def find_rings(pids: Iterable[int] | None = None) -> list[RingStat]:
    """Every io_uring instance of the given processes (all readable ones by default),
    ordered by pid and fd. Processes that vanish or cannot be read are skipped."""
    if pids is None:
        pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    found = []
    for pid in pids:
        for fd in sorted(_ring_fds(pid)):
            try:
                found.append(ring_stat(fd, pid))
            except (OSError, ValueError):
                continue   # closed between the listing and the read
    return found


def rates(before: Iterable[RingStat], after: Iterable[RingStat], seconds: float) -> dict[tuple[int, int], dict[str, float]]:
    """Per (pid, fd): SQEs consumed and CQEs reaped per second between two samples, from
    the movement of the SQ and CQ heads (mod 2**32, as the kernel's counters wrap), and for
    an SQPOLL ring the share of its thread's time spent working (SqWorkTime / SqTotalTime,
    printed since 6.9)."""
    old = {(r.pid, r.fd): r for r in before}
    out: dict[tuple[int, int], dict[str, float]] = {}
    for r in after:
        prev = old.get((r.pid, r.fd))
        if prev is None or seconds <= 0:
            continue
        rec: dict[str, float] = {}
        for name, attr in (("sqe_per_sec", "sq_head"), ("cqe_per_sec", "cq_head")):
            a, b = getattr(prev, attr), getattr(r, attr)
            if a is not None and b is not None:
                rec[name] = ((b - a) % _U32) / seconds
        if None not in (prev.sq_work_time_us, prev.sq_total_time_us, r.sq_work_time_us, r.sq_total_time_us):
            total = r.sq_total_time_us - prev.sq_total_time_us   # type: ignore[operator]
            if total > 0:
                rec["sqpoll_busy"] = (r.sq_work_time_us - prev.sq_work_time_us) / total  # type: ignore[operator]
        out[(r.pid, r.fd)] = rec
    return out


def _num(x: int | None) -> str:
    return "-" if x is None else str(x)


def _rate(x: float | None) -> str:
    if x is None:
        return "-"
    for unit, scale in (("M", 1e6), ("k", 1e3)):
        if x >= scale:
            return f"{x / scale:.1f}{unit}"
    return f"{x:.0f}"


def format_table(rings: list[RingStat], rate: dict[tuple[int, int], dict[str, float]] | None = None) -> str:
    """One line per ring: who, sizes, heads/tails, pending, overflow, SQPOLL, resources
    (and, with `rate`, SQEs/CQEs per second)."""
    head = ["PID", "COMM", "FD", "SQ", "SQ head/tail", "SQ pend", "CQ", "CQ head/tail", "CQ pend",
            "OVF", "SQPOLL", "FILES", "BUFS", "PERS", "POLL"]
    if rate is not None:
        head += ["SQE/s", "CQE/s", "SQPOLL busy"]
    rows = []
    for r in rings:
        sqpoll = "-" if r.sq_thread is None else (
            f"{r.sq_thread}@cpu{r.sq_thread_cpu}" if r.sq_thread_cpu is not None else str(r.sq_thread))
        row = [str(r.pid), r.comm[:15], str(r.fd), _num(r.sq_entries),
               f"{_num(r.sq_head)}/{_num(r.sq_tail)}", _num(r.sq_pending), _num(r.cq_entries),
               f"{_num(r.cq_head)}/{_num(r.cq_tail)}", _num(r.cq_pending), str(r.overflow),
               sqpoll, str(r.files), str(r.buffers), str(len(r.personalities)), str(len(r.poll_list))]
        if rate is not None:
            rec = rate.get((r.pid, r.fd), {})
            busy = rec.get("sqpoll_busy")
            row += [_rate(rec.get("sqe_per_sec")), _rate(rec.get("cqe_per_sec")),
                    "-" if busy is None else f"{busy:.0%}"]
        if r.busy:
            row = row[:3] + ["(busy: the kernel skipped its fdinfo, try again)"]
        rows.append(row)
    if not rows:
        return "no io_uring instances found (only processes you may read are searched)"
    # A busy ring's row is short (who, then why): only full rows set the column widths.
    widths = [max(len(x) for x in col) for col in zip(head, *[r for r in rows if len(r) == len(head)])]
    return "\n".join("  ".join(x.ljust(w) for x, w in zip(row, widths)).rstrip()
                     for row in [head, *rows])


def watch(pids: list[int] | None, interval: float, *, iterations: int | None = None,
          out: Any = None) -> None:
    """Redraw the table every `interval` seconds, like top, with rates since the last
    sample; `iterations` stops after that many frames (None: until interrupted)."""
    import sys
    out = out or sys.stdout
    clear = "\x1b[H\x1b[2J" if getattr(out, "isatty", lambda: False)() else ""
    before = find_rings(pids)
    t0 = time.monotonic()
    frame = 0
    while iterations is None or frame < iterations:
        time.sleep(interval)
        after = find_rings(pids)
        t1 = time.monotonic()
        stamp = time.strftime("%H:%M:%S")
        out.write(f"{clear}uring stat  {stamp}  every {interval:g} s\n"
                  f"{format_table(after, rates(before, after, t1 - t0))}\n\n")
        out.flush()
        before, t0 = after, t1
        frame += 1
