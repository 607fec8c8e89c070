"""bench/gpu_check.py on a machine without CUDA: one table of "skipped: no CUDA" rows, exit 0, within seconds."""
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_gpu_check_without_cuda_skips_every_row_quickly(tmp_path):
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    start = time.time()
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "gpu_check.py"), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| ") and "---" not in line][1:]
    names = [row.split("|")[1].strip() for row in rows]
    assert len(rows) == 9 and all("| skipped: no CUDA |" in row for row in rows)
    for expected in ("bf16 autocast", "channels_last", "torch.compile", "DDP, 1 process, NCCL",
                     "expand_items on the device", "bench/train_sis.py CUDA", "bench/fid.py CUDA"):
        assert expected in names
    assert not (tmp_path / "out").exists()
    assert time.time() - start < 30
