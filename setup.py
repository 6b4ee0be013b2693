"""Build the compiled kernel of the Hamming index (everything else is in pyproject.toml).

The extension is optional at run time: without it Warding uses the numpy implementation of the
same algorithm (warding/matching/kernel.py), which gives the same answers, more slowly.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "warding.matching._kernel",
            sources=["warding/matching/_kernel.c"],
            extra_compile_args=["-O3", "-std=c11"],
            optional=True,  # no compiler: install anyway, the numpy fallback takes over
        )
    ]
)
