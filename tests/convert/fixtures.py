"""Where the official-network fixtures live (`<repo>/../shared/fixtures/official`, see the README there, or
$SEMSYNTH_SHARED/fixtures/official); tests that need a case skip cleanly when it is absent."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(os.environ.get("SEMSYNTH_SHARED", REPO_ROOT.parent / "shared")) / "fixtures" / "official"


def fixture_case(name: str) -> Path:
    """The folder of fixture case `name`; pytest.skip when the shared fixtures are not there."""
    case = FIXTURES / name
    if not (case / "case.json").is_file():
        pytest.skip(f"official fixture case {name!r} not found under {FIXTURES} (set SEMSYNTH_SHARED)")
    return case
