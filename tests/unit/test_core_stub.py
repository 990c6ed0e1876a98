"""The _core.pyi stub lists every public name of the compiled core (module and class level),
and the generated Ring methods are current."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import uring
from uring import _core, _gen

STUB = Path(_core.__file__).with_name("_core.pyi")
if not STUB.exists():  # an installed (non-editable) build keeps the stub next to the sources
    STUB = Path(__file__).resolve().parents[2] / "src" / "uring" / "_core.pyi"


def _stub_names() -> tuple[set[str], dict[str, set[str]]]:
    tree = ast.parse(STUB.read_text())
    module: set[str] = set()
    classes: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            module.add(node.name)
        elif isinstance(node, ast.Assign):
            module.update(t.id for t in node.targets if isinstance(t, ast.Name))
        if isinstance(node, ast.ClassDef):
            members = set()
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    members.add(item.name)
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    members.add(item.target.id)
            classes[node.name] = members
    return module, classes


def _public(names) -> set[str]:
    return {n for n in names if not n.startswith("_")}


def test_stub_has_every_public_module_name():
    module, _ = _stub_names()
    compiled = {n for n, v in vars(_core).items()
                if not n.startswith("_") and getattr(v, "__module__", None) == "uring._core"}
    assert compiled, "no public names found in the compiled core"
    assert compiled - module == set()


def test_stub_has_every_public_member_of_each_class():
    _, classes = _stub_names()
    for name, cls in vars(_core).items():
        if not isinstance(cls, type) or cls.__module__ != "uring._core" or name.startswith("_"):
            continue
        members = _public(dir(cls)) - _public(dir(object))
        missing = members - classes.get(name, set())
        assert missing == set(), f"_core.pyi: {name} lacks {sorted(missing)}"


def test_stub_has_the_names_the_issue_lists():
    module, classes = _stub_names()
    assert {"Ring", "Op", "Pin"} - module == {"Ring"}  # Ring itself is Python (uring.ring)
    assert {"requeue_cycle", "requeue_many", "queue_many"} <= classes["RingCore"]
    assert {"buf_index", "buf_table_size", "filenames"} <= classes["Op"]


def test_generated_ring_methods_are_current():
    assert _gen.generate() == _gen.TARGET.read_text(), "run: python -m uring._gen"


def test_generated_methods_show_their_real_signature():
    sig = inspect.signature(uring.Ring.openat)
    assert list(sig.parameters)[:5] == ["self", "dfd", "path", "flags", "mode"]
    assert sig.return_annotation == "Op"
    assert sig.parameters["sqe_flags"].kind is inspect.Parameter.KEYWORD_ONLY
    assert "callback" in sig.parameters and "context" in sig.parameters
    # A helper's own parameter wins over the common field of the same name.
    assert list(inspect.signature(uring.Ring.openat_direct).parameters).count("file_index") == 1
    # help() and inspect show the return type the method really has (it was once "Sqe").
    assert str(inspect.signature(uring.Ring.timeout)).endswith("-> 'Op'")
    assert inspect.signature(uring.Ring.timeout, eval_str=True).return_annotation is uring.Op
    assert "IORING_OP_OPENAT" in (uring.Ring.openat.__doc__ or "")
