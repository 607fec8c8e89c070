"""Argument types shared by several commands, and the help text of config dataclass fields."""
from __future__ import annotations

import argparse
import ast
import dataclasses
import functools
import inspect
import io
import json
import math
import textwrap
import tokenize


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


@functools.cache
def field_help(cls) -> dict[str, str]:
    """field name -> help text of the dataclass `cls`, its base classes' fields included: a field's
    `field(metadata={"help": ...})` when it has one, else the trailing `# comment` of the line that defines it
    (the house convention for config dataclasses). Read once per class, through the tokenizer, so a `#` inside a
    string default is not taken for a comment."""
    found = {}
    for klass in reversed(cls.__mro__):  # bases first: a subclass that redefines a field wins
        if dataclasses.is_dataclass(klass):
            found.update(_trailing_comments(klass))
    found.update({f.name: f.metadata["help"] for f in dataclasses.fields(cls) if "help" in f.metadata})
    return found


def _trailing_comments(klass) -> dict[str, str]:
    """name -> comment on the last line of each annotated assignment in the body of `klass` ({} without source)."""
    try:
        source = textwrap.dedent(inspect.getsource(klass))
    except (OSError, TypeError):
        return {}
    body = ast.parse(source).body[0].body
    last_line = {node.target.id: node.end_lineno for node in body
                 if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)}
    comments = {tok.start[0]: tok.string.lstrip("#").strip()
                for tok in tokenize.generate_tokens(io.StringIO(source).readline) if tok.type == tokenize.COMMENT}
    return {name: comments[line] for name, line in last_line.items() if line in comments}
