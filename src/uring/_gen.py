"""Writes src/uring/_ring_methods.py (``python -m uring._gen``): a Ring method per prep helper
with its real signature plus the common SQE keywords; a unit test checks the file is current."""

from __future__ import annotations

import builtins
import inspect
import re
import sys
import textwrap
import typing
from pathlib import Path
from typing import Any, Callable

TARGET = Path(__file__).with_name("_ring_methods.py")

# name, annotation, default: the SQE fields every queued op may set, then the queue arguments.
COMMON = (
    ("sqe_flags", "int", "0"),
    ("ioprio", "int | None", "None"),
    ("personality", "int | None", "None"),
    ("buf_group", "int | BufferRing | None", "None"),
    ("file_index", "int | None", "None"),
    ("context", "Any", "None"),
    ("callback", "Callable[[Op, int, int], Any] | None", "None"),
)

HEADER = '''"""Ring methods generated from the prep helpers by ``python -m uring._gen``: do not edit.
Each queues its helper's SQE with the common SQE fields and returns the Op."""

from __future__ import annotations

from typing import Any, Callable

from uring._core import Op, Sqe
from uring.bufring import BufferRing
from uring.ops._common import accept_renamed
{imports}

__all__ = ["RingMethods"]


def _queue(ring: Any, sqe: Sqe, sqe_flags: int, ioprio: int | None, personality: int | None,
           buf_group: int | BufferRing | None, file_index: int | None, context: Any,
           callback: Callable[[Op, int, int], Any] | None) -> Op:
    if sqe_flags or ioprio is not None or personality is not None or buf_group is not None \\
            or file_index is not None:
        sqe.set(flags=sqe_flags, ioprio=ioprio, personality=personality, buf_group=buf_group,
                file_index=file_index)
    op: Op = ring.queue(sqe, callback=callback, context=context)
    return op


class RingMethods:
    """Mixed into Ring: a method per prep helper the compiled core has no fast path for."""
'''

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BUILTIN = set(dir(builtins)) | {"None"}


def _families() -> list[Any]:
    from uring.ops import cancels, fs, misc, net, poll, rw, timeouts
    return [rw, fs, net, poll, timeouts, cancels, misc]


def _shadowed() -> set[str]:
    """Names the core or a mixin already defines (fast paths, richer wrappers)."""
    from uring._core import RingCore
    from uring.cancellation import CancelMixin
    from uring.chain import ChainMixin
    from uring.register import RegisterMixin
    names: set[str] = set()
    for cls in (ChainMixin, CancelMixin, RegisterMixin, RingCore, object):
        names.update(cls.__dict__)
    return names


def _home_of(name: str, module: Any) -> str:
    """The module to import annotation name `name` (as `module` sees it) from."""
    obj = module.__dict__[name]
    if getattr(typing, name, None) is obj:
        return "typing"
    home = getattr(obj, "__module__", None)
    if isinstance(obj, type) and home and getattr(sys.modules.get(home), name, None) is obj:
        return str(home)
    # A type alias knows no home: the first family (in a fixed order) that has an equal one.
    from uring.ops import _common
    for candidate in [_common, *_families()]:
        if candidate.__dict__.get(name) == obj:
            return str(candidate.__name__)
    return str(module.__name__)


def _render_default(value: Any, where: str) -> str:
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        text = repr(value)
        if isinstance(value, int) and not isinstance(value, bool) and type(value) is not int:
            text = repr(int(value))  # an IntEnum/IntFlag member: its value
        return text
    raise TypeError(f"{where}: cannot render default {value!r} in generated code")


def _method(name: str, fn: Callable[..., Any], module: Any, imports: dict[str, str]) -> str:
    sig = inspect.signature(fn)
    own = set(sig.parameters)
    params: list[str] = ["self"]
    call: list[str] = []
    star = False
    for p in sig.parameters.values():
        ann = p.annotation
        if ann is inspect.Parameter.empty:
            text = p.name
        else:
            ann = ann if isinstance(ann, str) else inspect.formatannotation(ann)
            for ident in _NAME.findall(ann):
                if ident not in _BUILTIN and ident in module.__dict__:
                    home = _home_of(ident, module)
                    if imports.setdefault(ident, home) != home:
                        raise TypeError(f"{name}: annotation {ident} means different things in "
                                        f"{home} and {imports[ident]}")
            text = f"{p.name}: {ann}"
        if p.default is not inspect.Parameter.empty:
            text += f" = {_render_default(p.default, f'{name}({p.name})')}"
        if p.kind is p.VAR_POSITIONAL:
            params.append("*" + text)
            call.append("*" + p.name)
            star = True
        elif p.kind is p.KEYWORD_ONLY:
            if not star:
                params.append("*")
                star = True
            params.append(text)
            call.append(f"{p.name}={p.name}")
        elif p.kind is p.VAR_KEYWORD:
            raise TypeError(f"{name}: a prep helper with **kwargs cannot get a generated method")
        else:
            params.append(text)
            call.append(p.name)
    if not star:
        params.append("*")
    common_args = []
    for cname, cann, cdefault in COMMON:
        if cname in own:
            common_args.append("0" if cname == "sqe_flags" else "None")
        else:
            params.append(f"{cname}: {cann} = {cdefault}")
            common_args.append(cname)
    doc = inspect.getdoc(fn) or ""
    common_names = ", ".join(c[0] for c in COMMON if c[0] not in own)
    doc += "\n\n" + textwrap.fill(
        "Queues the SQE on this ring and returns its Op (nothing is submitted yet). "
        f"Keywords {common_names} set the common SQE fields (sqe_flags: IOSQE_* bits), "
        "op.context and the callback(op, res, flags) called for each CQE.", 88)
    doc_lines = "\n".join(("        " + line) if line else "" for line in doc.splitlines())
    decorator = "    @accept_renamed\n" if _renames(fn) else ""
    signature = _wrap(f"    def {name}(", params, ") -> Op:")
    body = (f'        """{doc_lines.lstrip()}\n        """\n'
            f"        return _queue(self, _{module.__name__.rsplit('.', 1)[1]}.{name}({', '.join(call)}),\n"
            f"                      {', '.join(common_args)})\n")
    return decorator + signature + "\n" + body


def _renames(fn: Callable[..., Any]) -> dict[str, str]:
    from uring.ops._common import renamed_keywords
    return renamed_keywords(fn)


def _wrap(head: str, items: list[str], tail: str, width: int = 100) -> str:
    """`head` + items joined by ", " + `tail`, broken into lines of at most `width`."""
    lines: list[str] = []
    line = head
    indent = " " * 12
    for i, item in enumerate(items):
        piece = item + (", " if i < len(items) - 1 else tail)
        if len(line) + len(piece.rstrip()) > width and line.strip() not in ("", head.strip()):
            lines.append(line.rstrip())
            line = indent
        line += piece
    lines.append(line)
    return "\n".join(lines)


def generate() -> str:
    from uring.ops import _common
    shadowed = _shadowed()
    families = {m.__name__: m for m in _families()}
    imports: dict[str, str] = {}
    methods: list[str] = []
    for name, fn in _common._FUNCS.items():
        if name in shadowed:
            continue
        module = families[fn.__module__]
        methods.append(_method(name, fn, module, imports))
    lines = [f"from uring.ops import {short} as _{short}"
             for short in sorted(m.rsplit(".", 1)[1] for m in families)]
    for home in sorted(set(imports.values())):
        names = sorted(n for n, h in imports.items() if h == home and (home, n) not in _IN_HEADER)
        if names:
            lines.append(f"from {home} import {', '.join(names)}")
    text = HEADER.format(imports="\n".join(lines))
    return text + "\n" + "\n".join(methods)


_IN_HEADER = {("typing", "Any"), ("typing", "Callable"), ("uring._core", "Op"), ("uring._core", "Sqe")}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = generate()
    if args == ["--check"]:
        same = TARGET.exists() and TARGET.read_text() == text
        print(f"{TARGET.name} is {'current' if same else 'stale: run python -m uring._gen'}")
        return 0 if same else 1
    TARGET.write_text(text)
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
