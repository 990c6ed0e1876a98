"""File and directory ops against the kernel: open/openat2 (regular and direct), close,
statx, rename, unlink, mkdir, symlink, link, registered-file updates, fixed-fd install and
pipes. Results are checked on disk (or through the fds they return), not only by res."""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from contextlib import contextmanager

import pytest

from uring import ops
from uring._uapi import (IORING_FILE_INDEX_ALLOC, IORING_FIXED_FD_NO_CLOEXEC,
                         IORING_REGISTER_FILES_SKIP, IORING_RSRC_REGISTER_SPARSE, RSRC_REGISTER,
                         Opcode, RegisterOp, SqeFlags)
from uring.ops import fs
from uring.ops._common import AT_FDCWD
from tests.conftest import require_op
from tests.support import failed, run_one as run

FIXED = SqeFlags.FIXED_FILE
LINK = SqeFlags.IO_LINK






@contextmanager
def sparse_files(ring, nr=8):
    """A registered file table of `nr` empty slots for the direct ops."""
    arg = bytearray(RSRC_REGISTER.pack(nr, IORING_RSRC_REGISTER_SPARSE, 0, 0, 0))
    ring._register(RegisterOp.FILES2, arg, RSRC_REGISTER.size)
    try:
        yield
    finally:
        ring._register(RegisterOp.UNREGISTER_FILES)


@contextmanager
def umask(mask):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


@contextmanager
def dir_fd(directory):
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield fd
    finally:
        os.close(fd)


def read_fixed_slot(ring, slot, size, offset=0):
    buf = bytearray(size)
    op = ring.read(slot, buf, None, offset, FIXED)
    ring.submit_and_wait(1)
    return op, bytes(buf[:max(op.res, 0)])


# -- open ------------------------------------------------------------------------------------


@pytest.mark.parametrize("as_path", [str, os.fsencode, lambda p: p], ids=["str", "bytes", "PathLike"])
def test_openat_existing_file_reads_back(ring, tmp_file, as_path):
    require_op(Opcode.OPENAT)
    path, data = tmp_file
    op = run(ring, ops.openat(AT_FDCWD, as_path(path), os.O_RDONLY))
    fd = op.result
    try:
        assert fd >= 0
        assert os.path.samestat(os.fstat(fd), os.stat(path))
        assert fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_RDONLY
        buf = bytearray(len(data))
        rd = ring.read(fd, buf, None, 0)
        ring.submit_and_wait(1)
        assert rd.res == len(data) and buf == data
    finally:
        os.close(fd)


def test_openat_relative_to_a_directory_fd(ring, tmp_file):
    require_op(Opcode.OPENAT)
    path, data = tmp_file
    with dir_fd(path.parent) as dfd:
        fd = run(ring, ops.openat(dfd, path.name, os.O_RDONLY)).result
    try:
        assert os.pread(fd, 16, 100) == data[100:116]
    finally:
        os.close(fd)


def test_open_creates_with_mode_under_umask(ring, tmp_path):
    require_op(Opcode.OPENAT)
    target = tmp_path / "new"
    with umask(0o022):
        op = run(ring, ops.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    fd = op.result
    try:
        assert stat.S_IMODE(os.fstat(fd).st_mode) == 0o644
        assert os.write(fd, b"written") == 7
    finally:
        os.close(fd)
    assert target.read_bytes() == b"written"
    again = run(ring, ops.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    assert isinstance(failed(again, errno.EEXIST), FileExistsError)


def test_open_missing_file_is_file_not_found(ring, tmp_path):
    require_op(Opcode.OPENAT)
    op = run(ring, ops.open(tmp_path / "missing", os.O_RDONLY))
    err = failed(op, errno.ENOENT)
    assert isinstance(err, FileNotFoundError)
    assert isinstance(op.exception(), FileNotFoundError)


def test_open_as_ring_method(ring, tmp_file):
    require_op(Opcode.OPENAT)
    path, data = tmp_file
    op = ring.openat(AT_FDCWD, path, os.O_RDONLY | os.O_CLOEXEC, 0)
    [fd] = ring.wait_for(op, timeout=5)
    try:
        assert not os.get_inheritable(fd)
        assert os.read(fd, 4) == data[:4]
    finally:
        os.close(fd)


# -- openat2 -----------------------------------------------------------------------------------


def test_openat2_plain_open_with_dict_and_openhow(ring, tmp_file):
    require_op(Opcode.OPENAT2)
    path, data = tmp_file
    for how in ({"flags": os.O_RDONLY}, fs.OpenHow(flags=os.O_RDONLY)):
        fd = run(ring, ops.openat2(AT_FDCWD, path, how)).result
        try:
            assert os.read(fd, 8) == data[:8]
        finally:
            os.close(fd)


def test_openat2_creates_with_mode(ring, tmp_path):
    require_op(Opcode.OPENAT2)
    with umask(0):
        fd = run(ring, ops.openat2(AT_FDCWD, tmp_path / "c", fs.OpenHow(os.O_CREAT | os.O_WRONLY, 0o604))).result
    os.close(fd)
    assert stat.S_IMODE(os.stat(tmp_path / "c").st_mode) == 0o604


def test_openat2_resolve_flags(ring, tmp_path):
    require_op(Opcode.OPENAT2)
    (tmp_path / "inner").mkdir()
    (tmp_path / "f").write_bytes(b"root file")
    os.symlink("f", tmp_path / "inner" / "up")  # a relative link that escapes "inner"
    os.symlink(tmp_path / "f", tmp_path / "sym")
    with dir_fd(tmp_path / "inner") as inner, dir_fd(tmp_path) as top:
        beneath = fs.OpenHow(os.O_RDONLY, 0, fs.RESOLVE_BENEATH)
        failed(run(ring, ops.openat2(inner, "../f", beneath)), errno.EXDEV)
        failed(run(ring, ops.openat2(inner, str(tmp_path / "f"), beneath)), errno.EXDEV)
        failed(run(ring, ops.openat2(top, "sym", {"resolve": fs.RESOLVE_NO_SYMLINKS})), errno.ELOOP)
        # IN_ROOT treats the dir fd as "/": an absolute path stays inside it.
        fd = run(ring, ops.openat2(top, "/f", {"resolve": fs.RESOLVE_IN_ROOT})).result
        try:
            assert os.read(fd, 64) == b"root file"
        finally:
            os.close(fd)


def test_openat2_rejects_what_openat_ignores(ring, tmp_file):
    require_op(Opcode.OPENAT2)
    path, _ = tmp_file
    failed(run(ring, ops.openat2(AT_FDCWD, path, {"mode": 0o600})), errno.EINVAL)  # mode without O_CREAT
    failed(run(ring, ops.openat2(AT_FDCWD, path, {"resolve": 1 << 40})), errno.EINVAL)  # unknown resolve bit
    failed(run(ring, ops.openat2(AT_FDCWD, path, {"flags": 1 << 40})), errno.EINVAL)  # unknown open flag


# -- close -----------------------------------------------------------------------------------


def test_close_regular_fd(ring, tmp_file):
    require_op(Opcode.CLOSE)
    fd = os.open(tmp_file[0], os.O_RDONLY)
    op = run(ring, ops.close(fd))
    assert op.res == 0
    with pytest.raises(OSError) as info:
        os.fstat(fd)
    assert info.value.errno == errno.EBADF


def test_close_of_a_closed_fd_is_ebadf(ring, tmp_file):
    require_op(Opcode.CLOSE)
    fd = os.open(tmp_file[0], os.O_RDONLY)
    os.close(fd)
    failed(run(ring, ops.close(fd)), errno.EBADF)
    failed(run(ring, ops.close(-1)), errno.EBADF)


def test_close_refuses_the_ring_own_fd(ring):
    require_op(Opcode.CLOSE)
    failed(run(ring, ops.close(ring.fd)), errno.EBADF)
    assert not ring.closed and ring.run(ops.nop()) == 0


# -- statx -----------------------------------------------------------------------------------


def test_statx_matches_os_stat(ring, tmp_file):
    require_op(Opcode.STATX)
    path, data = tmp_file
    op = run(ring, ops.statx(AT_FDCWD, path, 0, fs.STATX_BASIC_STATS | fs.STATX_BTIME))
    assert op.res == 0
    st, want = op.out, os.stat(path)
    assert st.st_mask & fs.STATX_BASIC_STATS == fs.STATX_BASIC_STATS
    assert (st.st_size, st.st_mode, st.st_ino, st.st_nlink, st.st_uid, st.st_gid, st.st_dev) == \
        (len(data), want.st_mode, want.st_ino, want.st_nlink, want.st_uid, want.st_gid, want.st_dev)
    assert (st.st_mtime_ns, st.st_ctime_ns, st.st_atime_ns) == \
        (want.st_mtime_ns, want.st_ctime_ns, want.st_atime_ns)
    assert (st.st_blocks, st.st_blksize) == (want.st_blocks, want.st_blksize)
    if st.st_mask & fs.STATX_BTIME:
        assert 0 < st.st_birthtime_ns <= st.st_ctime_ns


def test_statx_of_an_fd_with_empty_path(ring, tmp_file):
    require_op(Opcode.STATX)
    path, data = tmp_file
    buf = bytearray(256)
    fd = os.open(path, os.O_RDONLY)
    try:
        op = run(ring, ops.statx(fd, "", fs.AT_EMPTY_PATH, fs.STATX_SIZE, buf))
    finally:
        os.close(fd)
    assert op.res == 0 and op.out.buffer is buf
    assert op.out.st_mask & fs.STATX_SIZE and op.out.st_size == len(data)


def test_statx_symlink_nofollow(ring, tmp_file):
    require_op(Opcode.STATX)
    path, _ = tmp_file
    link = path.parent / "lnk"
    os.symlink(path.name, link)
    nofollow = run(ring, ops.statx(AT_FDCWD, link, fs.AT_SYMLINK_NOFOLLOW, fs.STATX_BASIC_STATS)).out
    follow = run(ring, ops.statx(AT_FDCWD, link, 0, fs.STATX_BASIC_STATS)).out
    assert stat.S_ISLNK(nofollow.st_mode) and nofollow.st_size == len(path.name)
    assert stat.S_ISREG(follow.st_mode) and follow.st_ino == os.stat(path).st_ino


def test_statx_missing_path(ring, tmp_path):
    require_op(Opcode.STATX)
    failed(run(ring, ops.statx(AT_FDCWD, tmp_path / "nope", 0, fs.STATX_BASIC_STATS)), errno.ENOENT)


# -- rename / unlink / mkdir / symlink / link ------------------------------------------------


def test_rename(ring, tmp_path):
    require_op(Opcode.RENAMEAT)
    (tmp_path / "a").write_bytes(b"A")
    assert run(ring, ops.rename(tmp_path / "a", tmp_path / "b")).res == 0
    assert not (tmp_path / "a").exists() and (tmp_path / "b").read_bytes() == b"A"
    failed(run(ring, ops.rename(tmp_path / "a", tmp_path / "c")), errno.ENOENT)


def test_renameat_between_directory_fds(ring, tmp_path):
    require_op(Opcode.RENAMEAT)
    (tmp_path / "src").mkdir()
    (tmp_path / "dst").mkdir()
    (tmp_path / "src" / "f").write_bytes(b"moved")
    with dir_fd(tmp_path / "src") as src, dir_fd(tmp_path / "dst") as dst:
        assert run(ring, ops.renameat(src, "f", dst, "g")).res == 0
    assert (tmp_path / "dst" / "g").read_bytes() == b"moved"
    assert not (tmp_path / "src" / "f").exists()


def test_renameat_noreplace_and_exchange(ring, tmp_path):
    require_op(Opcode.RENAMEAT)
    (tmp_path / "a").write_bytes(b"A")
    (tmp_path / "b").write_bytes(b"B")
    failed(run(ring, ops.renameat(AT_FDCWD, tmp_path / "a", AT_FDCWD, tmp_path / "b",
                                  fs.RENAME_NOREPLACE)), errno.EEXIST)
    assert (tmp_path / "b").read_bytes() == b"B"
    op = run(ring, ops.renameat(AT_FDCWD, tmp_path / "a", AT_FDCWD, tmp_path / "b", fs.RENAME_EXCHANGE))
    assert op.res == 0
    assert ((tmp_path / "a").read_bytes(), (tmp_path / "b").read_bytes()) == (b"B", b"A")


def test_unlink(ring, tmp_path):
    require_op(Opcode.UNLINKAT)
    (tmp_path / "f").write_bytes(b"")
    assert run(ring, ops.unlink(tmp_path / "f")).res == 0
    assert not (tmp_path / "f").exists()
    err = failed(run(ring, ops.unlink(tmp_path / "f")), errno.ENOENT)
    assert isinstance(err, FileNotFoundError)


def test_unlinkat_directories(ring, tmp_path):
    require_op(Opcode.UNLINKAT)
    (tmp_path / "d").mkdir()
    failed(run(ring, ops.unlink(tmp_path / "d")), errno.EISDIR)  # a directory needs AT_REMOVEDIR
    failed(run(ring, ops.unlinkat(AT_FDCWD, tmp_path / "d", 0x1)), errno.EINVAL)  # only AT_REMOVEDIR is known
    (tmp_path / "d" / "x").write_bytes(b"")
    with dir_fd(tmp_path) as top:
        failed(run(ring, ops.unlinkat(top, "d", fs.AT_REMOVEDIR)), errno.ENOTEMPTY)
        os.unlink(tmp_path / "d" / "x")
        assert run(ring, ops.unlinkat(top, "d", fs.AT_REMOVEDIR)).res == 0
    assert not (tmp_path / "d").exists()


def test_mkdir(ring, tmp_path):
    require_op(Opcode.MKDIRAT)
    with umask(0o022):
        assert run(ring, ops.mkdir(tmp_path / "d")).res == 0
        with dir_fd(tmp_path) as top:
            assert run(ring, ops.mkdirat(top, "e", 0o700)).res == 0
    assert stat.S_IMODE(os.stat(tmp_path / "d").st_mode) == 0o755
    assert stat.S_IMODE(os.stat(tmp_path / "e").st_mode) == 0o700
    err = failed(run(ring, ops.mkdir(tmp_path / "d", 0o700)), errno.EEXIST)
    assert isinstance(err, FileExistsError)
    failed(run(ring, ops.mkdir(tmp_path / "no" / "parent")), errno.ENOENT)


def test_symlink(ring, tmp_path):
    require_op(Opcode.SYMLINKAT)
    assert run(ring, ops.symlink("does/not/exist", tmp_path / "l")).res == 0
    assert os.readlink(tmp_path / "l") == "does/not/exist"
    with dir_fd(tmp_path) as top:
        assert run(ring, ops.symlinkat(b"l", top, "l2")).res == 0
    assert os.readlink(tmp_path / "l2") == "l"
    failed(run(ring, ops.symlink("x", tmp_path / "l")), errno.EEXIST)


def test_link(ring, tmp_file):
    require_op(Opcode.LINKAT)
    path, data = tmp_file
    other = path.parent / "hard"
    assert run(ring, ops.link(path, other)).res == 0
    assert os.stat(path).st_nlink == 2
    assert os.path.samefile(path, other) and other.read_bytes() == data
    failed(run(ring, ops.link(path, other)), errno.EEXIST)
    failed(run(ring, ops.link(path.parent / "missing", path.parent / "x")), errno.ENOENT)


def test_linkat_symlink_follow(ring, tmp_file):
    require_op(Opcode.LINKAT)
    path, _ = tmp_file
    top = path.parent
    os.symlink(path.name, top / "sym")
    with dir_fd(top) as dfd:
        assert run(ring, ops.linkat(dfd, "sym", dfd, "to_link")).res == 0
        assert run(ring, ops.linkat(dfd, "sym", dfd, "to_file", fs.AT_SYMLINK_FOLLOW)).res == 0
    assert os.path.islink(top / "to_link")  # without the flag the link itself is linked
    assert not os.path.islink(top / "to_file") and os.path.samefile(top / "to_file", path)


# -- direct descriptors ----------------------------------------------------------------------


def test_open_direct_read_close_direct_chain(ring, tmp_file):
    require_op(Opcode.OPENAT, Opcode.READ, Opcode.CLOSE)
    path, data = tmp_file
    buf = bytearray(4096)
    ring.completions = []
    try:
        with sparse_files(ring):
            opened = ring.openat_direct(AT_FDCWD, path, os.O_RDONLY, 0, 3, sqe_flags=LINK)
            read = ring.read(3, buf, None, 8192, FIXED | LINK)
            closed = ring.close_direct(3)
            ring.wait_for(opened, read, closed, timeout=5)
            order = list(ring.completions)
            # The slot is empty again: a second close says so.
            failed(run(ring, ops.close_direct(3)), errno.EBADF)
    finally:
        ring.completions = None
    assert order == [opened, read, closed]
    assert (opened.res, read.res, closed.res) == (0, 4096, 0)
    assert [op.cqe_flags for op in order] == [0, 0, 0]
    assert buf == data[8192:8192 + 4096]


def test_open_direct_alloc_returns_the_slot(ring, tmp_file):
    require_op(Opcode.OPENAT, Opcode.OPENAT2)
    path, data = tmp_file
    with sparse_files(ring, 4):
        first = run(ring, ops.open_direct(path, os.O_RDONLY, 0, IORING_FILE_INDEX_ALLOC))
        second = run(ring, ops.openat2_direct(AT_FDCWD, path, {"flags": os.O_RDONLY}, IORING_FILE_INDEX_ALLOC))
        assert (first.res, second.res) == (0, 1)
        op, got = read_fixed_slot(ring, 1, 10, 20)
        assert op.res == 10 and got == data[20:30]
        assert run(ring, ops.close_direct(0)).res == 0
        assert run(ring, ops.close_direct(1)).res == 0


def test_open_direct_errors(ring, tmp_file):
    require_op(Opcode.OPENAT)
    path, _ = tmp_file
    failed(run(ring, ops.open_direct(path, os.O_RDONLY, 0, 0)), errno.ENXIO)  # no file table
    with sparse_files(ring, 4):
        failed(run(ring, ops.open_direct(path, os.O_RDONLY, 0, 4)), errno.EINVAL)  # past the table
        # A direct descriptor is never inherited: asking for O_CLOEXEC is an error.
        failed(run(ring, ops.open_direct(path, os.O_RDONLY | os.O_CLOEXEC, 0, 0)), errno.EINVAL)
        failed(run(ring, ops.open_direct(path.parent / "missing", os.O_RDONLY, 0, 0)), errno.ENOENT)
        failed(run(ring, ops.close_direct(0)), errno.EBADF)  # nothing was installed


def test_fixed_fd_install_makes_a_real_fd(ring, tmp_file):
    require_op(Opcode.OPENAT, Opcode.FIXED_FD_INSTALL)
    path, data = tmp_file
    with sparse_files(ring, 2):
        assert run(ring, ops.open_direct(path, os.O_RDONLY, 0, 1)).res == 0
        fd = run(ring, ops.fixed_fd_install(1)).result
        try:
            assert os.path.samestat(os.fstat(fd), os.stat(path))
            assert not os.get_inheritable(fd)  # O_CLOEXEC unless asked otherwise
            assert os.pread(fd, 5, 1000) == data[1000:1005]
        finally:
            os.close(fd)
        fd = run(ring, ops.fixed_fd_install(1, IORING_FIXED_FD_NO_CLOEXEC)).result
        try:
            assert os.get_inheritable(fd)
        finally:
            os.close(fd)
        # The direct descriptor is still there after the installs.
        assert read_fixed_slot(ring, 1, 3)[1] == data[:3]
        assert run(ring, ops.close_direct(1)).res == 0
        failed(run(ring, ops.fixed_fd_install(1)), errno.EBADF)  # empty slot
        failed(run(ring, ops.fixed_fd_install(0, 2)), errno.EINVAL)  # unknown flag


def test_files_update(ring, tmp_file):
    require_op(Opcode.FILES_UPDATE)
    path, data = tmp_file
    failed(run(ring, ops.files_update([0], 0)), errno.ENXIO)  # no file table
    with sparse_files(ring, 8):
        fd = os.open(path, os.O_RDONLY)
        try:
            op = run(ring, ops.files_update([fd, IORING_REGISTER_FILES_SKIP], 3))
        finally:
            os.close(fd)  # the table holds its own reference
        assert op.res == 2
        assert read_fixed_slot(ring, 3, 8)[1] == data[:8]
        assert read_fixed_slot(ring, 4, 8)[0].res == -errno.EBADF  # skipped: still empty
        assert run(ring, ops.files_update([-1], 3)).res == 1  # -1 empties the slot
        assert read_fixed_slot(ring, 3, 8)[0].res == -errno.EBADF
        failed(run(ring, ops.files_update([0, 0], 7)), errno.EINVAL)  # runs past the table


def test_files_update_alloc_reports_the_slots(ring, tmp_file):
    require_op(Opcode.FILES_UPDATE)
    path, data = tmp_file
    with sparse_files(ring, 4):
        fd = os.open(path, os.O_RDONLY)
        try:
            op = run(ring, ops.files_update([fd, fd], IORING_FILE_INDEX_ALLOC))
        finally:
            os.close(fd)
        assert op.res == 2
        slots = op.out.fds
        assert sorted(slots) == [0, 1]
        for slot in slots:
            assert read_fixed_slot(ring, slot, 4, 4)[1] == data[4:8]


# -- pipes -------------------------------------------------------------------------------------


def test_pipe(ring):
    require_op(Opcode.PIPE)
    op = run(ring, ops.pipe())
    assert op.res == 0
    rfd, wfd = op.out.fds
    try:
        assert os.get_inheritable(rfd) and os.get_inheritable(wfd)
        assert os.write(wfd, b"through the pipe") == 16
        assert os.read(rfd, 64) == b"through the pipe"
    finally:
        os.close(rfd)
        os.close(wfd)


def test_pipe_flags(ring):
    require_op(Opcode.PIPE)
    rfd, wfd = run(ring, ops.pipe(os.O_NONBLOCK | os.O_CLOEXEC)).out.fds
    try:
        for fd in (rfd, wfd):
            assert fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_NONBLOCK
            assert not os.get_inheritable(fd)
        with pytest.raises(BlockingIOError):
            os.read(rfd, 1)
    finally:
        os.close(rfd)
        os.close(wfd)
    failed(run(ring, ops.pipe(os.O_WRONLY)), errno.EINVAL)


def test_pipe_direct(ring):
    require_op(Opcode.PIPE)
    with sparse_files(ring, 4):
        # Failures first: the kernel installs the read end before it finds no room for the
        # write end, then empties that slot again, whatever it held before.
        failed(run(ring, ops.pipe_direct(0, 3)), errno.EINVAL)  # the write end would be past the table
        failed(run(ring, ops.pipe_direct(os.O_CLOEXEC, 0)), errno.EINVAL)
        op = run(ring, ops.pipe_direct(0, 2))
        assert (op.res, op.out.fds) == (0, (2, 3))  # read end in the slot named, write end next
        data = bytearray(b"direct pipe")
        w = ring.write(3, data, None, 0, FIXED)
        ring.submit_and_wait(1)
        assert w.res == len(data)
        op2, got = read_fixed_slot(ring, 2, 64)
        assert op2.res == len(data) and got == data
        alloc = run(ring, ops.pipe_direct(0, IORING_FILE_INDEX_ALLOC))
        assert alloc.res == 0 and sorted(alloc.out.fds) == [0, 1]
        for slot in range(4):
            assert run(ring, ops.close_direct(slot)).res == 0


def test_cancelled_pipe_that_completed_closes_its_fds(ring, fd_guard):
    """A pipe() the caller cancelled but the kernel still made leaks no fd."""
    require_op(Opcode.PIPE)
    import uring
    op = ring.queue(ops.pipe())
    op.cancel_reason = uring.Cancelled  # as Ring.cancel marks it, before the CQE arrives
    ring.submit_and_wait(1)
    assert op.res == 0
    assert op.out.fds == (-1, -1)
    assert len(op.out.discarded) == 2
    for fd in op.out.discarded:
        assert not os.path.exists(f"/proc/self/fd/{fd}") or "pipe" not in os.readlink(f"/proc/self/fd/{fd}")
