"""Make `tests` mean this project's test package. torch-fidelity (a test dependency) installs a top-level
`tests` package into site-packages; a regular package there would otherwise shadow ours."""
import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parent)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
for name in [m for m in sys.modules if m == "tests" or m.startswith("tests.")]:
    del sys.modules[name]
