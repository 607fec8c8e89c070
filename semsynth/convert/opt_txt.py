"""Read the `opt.txt` that SPADE, OASIS and USIS write at training start: one `{key:>25}: {value:<30}` line per
option, with `\t[default: X]` after options that differ from their default. Values come back typed (bool, int,
float, None, or the string); nothing is unpickled (the projects' `opt.pkl` is code and is never read)."""
from __future__ import annotations

import re
from pathlib import Path

_LINE = re.compile(r"^\s*([A-Za-z_][\w]*): (.*?)\s*(?:\t\[default: .*\])?$")


def typed(value: str):
    """'True' -> True, '3' -> 3, '0.5' -> 0.5, 'None' -> None, anything else stays a string."""
    if value in ("True", "False"):
        return value == "True"
    if value == "None":
        return None
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


def read_opt_txt(path) -> dict:
    """{option: typed value} of an opt.txt; ValueError naming the file and line for a line that is no option."""
    path = Path(path)
    options = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("-" * 5):  # blank, or the '--- Options ---' rulers
            continue
        match = _LINE.match(line)
        if not match:
            raise ValueError(f"{path}:{number}: not an option line: {line.strip()[:80]!r}")
        options[match.group(1)] = typed(match.group(2).strip())
    return options


def require(options: dict, key: str, where) -> object:
    """options[key], or ValueError naming the file and the missing option."""
    if key not in options:
        raise ValueError(f"{where}: option {key!r} is missing from opt.txt")
    return options[key]
