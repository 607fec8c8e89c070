"""Engine test fixtures: the toy task and data set (tests/train/toy_task.py) registered for one test."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))  # `import toy_task` (a top-level `tests` package may exist in site-packages)

import toy_task  # noqa: E402


@pytest.fixture
def toy(monkeypatch):
    toy_task.register(monkeypatch.setitem)
    return toy_task


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny nets run fastest on one thread (and the budget is one core); restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

