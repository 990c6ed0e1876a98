"""Hypothesis over every prep helper: arbitrary arguments either build an SQE or raise
TypeError/ValueError/OverflowError with a message, never anything else, never a crash."""

from __future__ import annotations

import inspect

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from uring import Sqe, ops

CLEAN_ERRORS = (TypeError, ValueError, OverflowError)

junk = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
    st.sampled_from([-1, 0, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 63, -2 ** 63]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8), st.binary(max_size=16),
    st.builds(bytearray, st.binary(max_size=16)),
    st.lists(st.builds(bytearray, st.binary(max_size=8)), max_size=3),
    st.tuples(st.text(max_size=4), st.integers(-5, 70000)),
    st.just(object()), st.just(memoryview(b"ro")),
)

HELPERS = sorted(ops.helpers().items())


def _arity(fn):
    params = [p for p in inspect.signature(fn).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = sum(1 for p in params if p.default is p.empty)
    return required, len(params)


@pytest.mark.parametrize("name, fn", HELPERS, ids=[n for n, _ in HELPERS])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_helper_rejects_junk_cleanly(name, fn, data):
    required, total = _arity(fn)
    n = data.draw(st.integers(min_value=required, max_value=total), label="nargs")
    args = [data.draw(junk, label=f"arg{i}") for i in range(n)]
    try:
        result = fn(*args)
    except CLEAN_ERRORS as exc:
        assert str(exc), f"{name} raised {type(exc).__name__} without a message"
    else:
        assert isinstance(result, Sqe)
        assert len(bytes(result)) in (64, 128)


@pytest.mark.parametrize("name, fn", HELPERS, ids=[n for n, _ in HELPERS])
def test_every_helper_is_documented_and_registered(name, fn):
    assert fn.__doc__ and fn.__doc__.strip(), f"{name} has no docstring"
    assert any(name in names for names in ops.HELPERS.values())
