"""Argument types shared by several commands."""
from __future__ import annotations

import argparse
import json
import math


def data_option(text: str) -> tuple[str, object]:
    """"KEY=VALUE" -> (key, value): the value read as JSON when it parses (numbers, true/false), else as text."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"data options look like KEY=VALUE, got {text!r}")
    try:
        return key.strip(), json.loads(value)
    except json.JSONDecodeError:
        return key.strip(), value


DATA_OPTION_HELP = ("another option of the data set's reader, repeatable; values are read as JSON when they parse, "
                    "else as text (e.g. appearance=fixed or num_scenes=1000 for synthetic-streets)")


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (counts and batch sizes; 0 would write nothing or divide by zero)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def finite_float(text: str) -> float:
    """argparse type: a float that is neither NaN nor infinite (it would turn every output into NaN)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def size_arg(text: str) -> tuple[int, int]:
    """argparse type of --size: 'HxW' (or one number for a square) -> (H, W)."""
    from semsynth.data import parse_size
    try:
        return parse_size(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def add_speed_options(p: argparse.ArgumentParser, runs: str) -> None:
    """--compile and --precision of the commands that run networks (`runs` names them in the help)."""
    from semsynth.inference.compiled import MODES, PRECISIONS
    p.add_argument("--compile", choices=MODES, default="auto",
                   help=f"torch.compile the {runs}: auto = only when the sample count repays the compile time "
                        "(measured break-even, semsynth/inference/compiled.py), on = always, off = never; the "
                        "compile time is printed apart as [compile] NAME: S s")
    p.add_argument("--precision", choices=PRECISIONS, default="fp32",
                   help=f"bf16 = run the {runs} under bf16 autocast (for GPUs; outputs differ from fp32 by "
                        "bf16 rounding, so keep fp32 for reported metrics)")
