"""Number formatting shared by the model card's modules."""

from __future__ import annotations


def pct(x: float | None, digits: int = 1) -> str:
    return "—" if x is None else f"{100 * x:.{digits}f}%"


def f(x: float | None, digits: int = 3) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def met(ok: bool) -> str:
    return "**met**" if ok else "**not met**"
