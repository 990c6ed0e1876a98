"""aiofiles.os through the ring: stat (statx), rename/replace/renames (renameat), remove/
unlink/rmdir (unlinkat), mkdir/makedirs, link, symlink, sendfile (splice); the rest in a thread."""

from __future__ import annotations

import asyncio
import functools
import os as _os
from typing import Any, Callable

from uring import ops as _ops
from uring.aio.ops import submit
from uring.ops import AT_FDCWD

__all__ = ["stat", "lstat", "statvfs", "access", "rename", "renames", "replace", "remove", "unlink",
           "mkdir", "makedirs", "rmdir", "removedirs", "link", "symlink", "readlink", "listdir",
           "scandir", "getcwd", "sendfile", "path", "wrap"]

_STATX_BASIC = 0x7FF
_AT_SYMLINK_NOFOLLOW = 0x100
_AT_REMOVEDIR = 0x200
_AT_EMPTY_PATH = 0x1000
_AT_SYMLINK_FOLLOW = 0x400


def wrap(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run a blocking function in the loop's default executor (aiofiles.os.wrap): for the
    calls the kernel has no io_uring op for."""
    @functools.wraps(func)
    async def run(*args: Any, loop: Any = None, executor: Any = None, **kwargs: Any) -> Any:
        loop = loop or asyncio.get_running_loop()
        return await loop.run_in_executor(executor, functools.partial(func, *args, **kwargs))
    return run


async def _path_op(sqe: Any, *paths: Any) -> int:
    try:
        return await submit(sqe)
    except OSError as exc:
        if exc.filename is None and paths:
            exc.filename = _os.fsdecode(paths[0]) if not isinstance(paths[0], int) else paths[0]
            if len(paths) > 1:
                exc.filename2 = _os.fsdecode(paths[1])
        raise


def _stat_result(st: Any) -> _os.stat_result:
    ints = (st.st_mode, st.st_ino, st.st_dev, st.st_nlink, st.st_uid, st.st_gid, st.st_size,
            st.st_atime_ns // 10**9, st.st_mtime_ns // 10**9, st.st_ctime_ns // 10**9)
    # the floats as CPython computes them (sec + nsec * 1e-9), so they compare equal
    secs = lambda ns: ns // 10**9 + (ns % 10**9) * 1e-9  # noqa: E731
    extra = {"st_atime": secs(st.st_atime_ns), "st_mtime": secs(st.st_mtime_ns), "st_ctime": secs(st.st_ctime_ns),
             "st_atime_ns": st.st_atime_ns, "st_mtime_ns": st.st_mtime_ns, "st_ctime_ns": st.st_ctime_ns,
             "st_blksize": st.st_blksize, "st_blocks": st.st_blocks, "st_rdev": st.st_rdev}
    return _os.stat_result(ints, extra)


async def stat(path: Any, *, dir_fd: int | None = None, follow_symlinks: bool = True) -> _os.stat_result:
    """os.stat through IORING_OP_STATX (an int `path` is an open fd)."""
    flags = 0 if follow_symlinks else _AT_SYMLINK_NOFOLLOW
    if isinstance(path, int):
        dfd, name, flags = path, "", flags | _AT_EMPTY_PATH
    else:
        dfd, name = (AT_FDCWD if dir_fd is None else dir_fd), path
    sqe = _ops.statx(dfd, name, flags, _STATX_BASIC)
    await _path_op(sqe, path)
    return _stat_result(sqe.out)


async def lstat(path: Any, *, dir_fd: int | None = None) -> _os.stat_result:
    return await stat(path, dir_fd=dir_fd, follow_symlinks=False)


async def rename(src: Any, dst: Any, *, src_dir_fd: int | None = None, dst_dir_fd: int | None = None) -> None:
    """os.rename through IORING_OP_RENAMEAT."""
    await _path_op(_ops.renameat(AT_FDCWD if src_dir_fd is None else src_dir_fd, src,
                                 AT_FDCWD if dst_dir_fd is None else dst_dir_fd, dst), src, dst)


replace = rename   # renameat(2) without flags replaces an existing target, like os.replace


async def renames(old: Any, new: Any) -> None:
    """os.renames: create the new path's directories, rename, prune the old ones."""
    head, tail = _os.path.split(new)
    if head and tail and not _os.path.exists(head):
        await makedirs(head)
    await rename(old, new)
    head, tail = _os.path.split(old)
    if head and tail:
        try:
            await removedirs(head)
        except OSError:
            pass


async def remove(path: Any, *, dir_fd: int | None = None) -> None:
    """os.remove through IORING_OP_UNLINKAT."""
    await _path_op(_ops.unlinkat(AT_FDCWD if dir_fd is None else dir_fd, path, 0), path)


unlink = remove


async def rmdir(path: Any, *, dir_fd: int | None = None) -> None:
    """os.rmdir through IORING_OP_UNLINKAT with AT_REMOVEDIR."""
    await _path_op(_ops.unlinkat(AT_FDCWD if dir_fd is None else dir_fd, path, _AT_REMOVEDIR), path)


async def removedirs(name: Any) -> None:
    """os.removedirs: rmdir the leaf, then each parent until one fails."""
    await rmdir(name)
    head, tail = _os.path.split(name)
    if not tail:
        head, tail = _os.path.split(head)
    while head and tail:
        try:
            await rmdir(head)
        except OSError:
            break
        head, tail = _os.path.split(head)


async def mkdir(path: Any, mode: int = 0o777, *, dir_fd: int | None = None) -> None:
    """os.mkdir through IORING_OP_MKDIRAT."""
    await _path_op(_ops.mkdirat(AT_FDCWD if dir_fd is None else dir_fd, path, mode), path)


async def makedirs(name: Any, mode: int = 0o777, exist_ok: bool = False) -> None:
    """os.makedirs with each level made by IORING_OP_MKDIRAT."""
    head, tail = _os.path.split(name)
    if not tail:
        head, tail = _os.path.split(head)
    if head and tail and not _os.path.exists(head):
        try:
            await makedirs(head, exist_ok=exist_ok)
        except FileExistsError:
            pass
    try:
        await mkdir(name, mode)
    except OSError:
        if not exist_ok or not _os.path.isdir(name):
            raise


async def link(src: Any, dst: Any, *, src_dir_fd: int | None = None, dst_dir_fd: int | None = None,
               follow_symlinks: bool = True) -> None:
    """os.link through IORING_OP_LINKAT."""
    await _path_op(_ops.linkat(AT_FDCWD if src_dir_fd is None else src_dir_fd, src,
                               AT_FDCWD if dst_dir_fd is None else dst_dir_fd, dst,
                               _AT_SYMLINK_FOLLOW if follow_symlinks else 0), src, dst)


async def symlink(src: Any, dst: Any, target_is_directory: bool = False, *, dir_fd: int | None = None) -> None:
    """os.symlink through IORING_OP_SYMLINKAT."""
    await _path_op(_ops.symlinkat(src, AT_FDCWD if dir_fd is None else dir_fd, dst), src, dst)


async def sendfile(out_fd: int, in_fd: int, offset: int | None, count: int) -> int:
    """os.sendfile done as two IORING_OP_SPLICEs through a pipe (in_fd at `offset`, or at
    its position when None); returns the bytes moved to out_fd."""
    r, w = _os.pipe2(_os.O_CLOEXEC)
    try:
        moved = await submit(_ops.splice(in_fd, -1 if offset is None else offset, w, -1, count))
        done = 0
        while done < moved:
            n = await submit(_ops.splice(r, -1, out_fd, -1, moved - done))
            if n == 0:
                break
            done += n
        return done
    finally:
        _os.close(r)
        _os.close(w)


# No io_uring op for these: a thread, as aiofiles does.
statvfs = wrap(_os.statvfs)
access = wrap(_os.access)
readlink = wrap(_os.readlink)
listdir = wrap(_os.listdir)
scandir = wrap(_os.scandir)
getcwd = wrap(_os.getcwd)

from uring.aio import ospath as path  # noqa: E402  (aiofiles.os.path)
