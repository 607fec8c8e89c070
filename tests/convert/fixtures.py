"""Where the official-checkpoint fixtures live: `$SEMSYNTH_SHARED/fixtures/official/<case>/`, by default the
`shared/` folder next to the repository root. Tests skip cleanly when it is absent (never copy it in)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

FIXTURES = Path(os.environ.get("SEMSYNTH_SHARED", Path(__file__).resolve().parents[2].parent / "shared")) / \
    "fixtures" / "official"


def fixture_case(name: str) -> Path:
    """The folder of fixture case `name`; skips the test when it is not there."""
    folder = FIXTURES / name
    if not (folder / "case.json").is_file():
        pytest.skip(f"official fixture {name!r} not found at {folder} (set SEMSYNTH_SHARED)")
    return folder
