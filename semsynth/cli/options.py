"""Argument types shared by several commands."""
from __future__ import annotations

import argparse
import json


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
