"""Bounded option types for the command line: a value out of range is a one-line usage error
naming the option, never a silent fallback or a traceback."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def bounded_int(low: int, high: int | None = None) -> Callable[[str], int]:
    """An integer in ``[low, high]``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(
                f"{value} is out of range: {low} to {high}" if high is not None
                else f"{value} is out of range: at least {low}")
        return value

    return parse


def bounded_float(low: float, high: float, *, low_open: bool = False) -> Callable[[str], float]:
    """A finite number in ``[low, high]`` (``(low, high]`` with ``low_open``)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value) or value > high or value < low or (
                low_open and value == low):
            raise argparse.ArgumentTypeError(
                f"{text} is out of range: {'more than' if low_open else 'at least'} {low:g} "
                f"and at most {high:g}")
        return value

    return parse
