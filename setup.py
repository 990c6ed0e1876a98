"""Builds the compiled core (src/uring/_core.pyx) and the event loop's hot paths
(src/uring/loop/_fast.pyx); everything else is in pyproject.toml."""
import platform
import sysconfig

from Cython.Build import cythonize
from setuptools import Extension, setup

extra = ["-O2"]
if platform.machine() == "x86_64" and "gcc" in (sysconfig.get_config_var("CC") or ""):
    # GCC zeroes each new Op (~200 bytes) with `rep stos`, slow on several x86 cores; an
    # unrolled loop of stores takes 10% off the per-op cost of NOP-rate workloads.
    extra.append("-mmemset-strategy=unrolled_loop:256:noalign,libcall:-1:noalign")

setup(
    ext_modules=cythonize(
        [Extension("uring._core", ["src/uring/_core.pyx"], extra_compile_args=extra),
         Extension("uring.aio._fast", ["src/uring/aio/_fast.pyx"], extra_compile_args=["-O2"]),
         Extension("uring.loop._fast", ["src/uring/loop/_fast.pyx"], extra_compile_args=["-O2"])],
        compiler_directives={"language_level": "3"},
    )
)
