"""Make `tests` mean this project's test package. torch-fidelity (a test dependency) installs a top-level
`tests` package into site-packages; a regular package there would otherwise shadow ours."""
import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parent)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
for name in [m for m in sys.modules if m == "tests" or m.startswith("tests.")]:
    del sys.modules[name]

# Under `pytest -n 2` on a 2-core machine, two workers with two torch threads each oversubscribe the cores and
# tiny-model steps get many times slower; one thread per worker is the fast setting.
if __import__("os").environ.get("PYTEST_XDIST_WORKER"):
    import torch

    torch.set_num_threads(1)
