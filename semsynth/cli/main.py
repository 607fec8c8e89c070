"""Entry point of the `semsynth` command. Each command group lives in its own module with a
`register(subparsers)` function that adds its parser and sets `func` (args -> exit code)."""
from __future__ import annotations

import argparse
import os
import sys

from PIL.Image import DecompressionBombError
from safetensors import SafetensorError

from semsynth import __version__
from semsynth.cli import app, compare, convert, data, demo, evaluate, generate, sample, train

# command modules, in the order `semsynth --help` lists them
COMMAND_MODULES = [data, train, sample, generate, compare, demo, evaluate, convert, app]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="semsynth", description="Semantic scene generation: layouts, layout-to-photo, evaluation.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--version", action="version", version=f"semsynth {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except expected_errors() as err:
        # user-facing errors: one clear line, no traceback (set SEMSYNTH_DEBUG=1 for the traceback)
        if os.environ.get("SEMSYNTH_DEBUG"):
            raise
        print(f"semsynth: error: {err}", file=sys.stderr)
        return 2


def expected_errors() -> tuple[type[BaseException], ...]:
    """Errors a user can act on: bad values (ValueError), files and folders (OSError: missing, unwritable, a file
    where a folder should be, PIL's UnidentifiedImageError), broken weights files, and images too large to decode."""
    return ValueError, OSError, RuntimeError, SafetensorError, DecompressionBombError


if __name__ == "__main__":
    sys.exit(main())
