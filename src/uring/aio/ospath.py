"""aiofiles.ospath: os.path predicates and times answered by IORING_OP_STATX; ismount,
samefile, sameopenfile and abspath as well, with the same results as os.path."""

from __future__ import annotations

import os as _os
import stat as _stat
from typing import Any

from uring.aio import os as _aos

__all__ = ["exists", "isfile", "isdir", "islink", "ismount", "getsize", "getmtime", "getatime", "getctime",
           "samefile", "sameopenfile", "abspath"]


async def _stat_or_none(path: Any, follow: bool = True) -> Any:
    try:
        return await _aos.stat(path, follow_symlinks=follow)
    except (OSError, ValueError):
        return None


async def exists(path: Any) -> bool:
    return await _stat_or_none(path) is not None


async def isfile(path: Any) -> bool:
    st = await _stat_or_none(path)
    return st is not None and _stat.S_ISREG(st.st_mode)


async def isdir(path: Any) -> bool:
    st = await _stat_or_none(path)
    return st is not None and _stat.S_ISDIR(st.st_mode)


async def islink(path: Any) -> bool:
    st = await _stat_or_none(path, follow=False)
    return st is not None and _stat.S_ISLNK(st.st_mode)


async def ismount(path: Any) -> bool:
    """os.path.ismount's rule (another device than the parent, or the same inode) on statx."""
    st = await _stat_or_none(path, follow=False)
    if st is None or _stat.S_ISLNK(st.st_mode):
        return False
    parent = _os.path.join(path, b".." if isinstance(path, bytes) else "..")
    parent_st = await _stat_or_none(_os.path.realpath(parent))
    if parent_st is None:
        return False
    return st.st_dev != parent_st.st_dev or st.st_ino == parent_st.st_ino


async def getsize(path: Any) -> int:
    return (await _aos.stat(path)).st_size


async def getmtime(path: Any) -> float:
    return (await _aos.stat(path)).st_mtime


async def getatime(path: Any) -> float:
    return (await _aos.stat(path)).st_atime


async def getctime(path: Any) -> float:
    return (await _aos.stat(path)).st_ctime


async def samefile(f1: Any, f2: Any) -> bool:
    s1, s2 = await _aos.stat(f1), await _aos.stat(f2)
    return _os.path.samestat(s1, s2)


async def sameopenfile(fp1: int, fp2: int) -> bool:
    s1, s2 = await _aos.stat(fp1), await _aos.stat(fp2)
    return _os.path.samestat(s1, s2)


async def abspath(path: Any) -> Any:
    """os.path.abspath (no I/O besides getcwd, which is not blocking)."""
    return _os.path.abspath(path)
