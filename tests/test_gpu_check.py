"""bench/gpu_check.py on a machine without CUDA: one table of "skipped: no CUDA" rows, exit 0, within seconds."""
import os
import subprocess
import sys
import time
from pathlib import Path

from bench import gpu_check, versus_official

REPO = Path(__file__).resolve().parents[1]


def test_gpu_check_without_cuda_skips_every_row_quickly(tmp_path):
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    start = time.time()
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "gpu_check.py"), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| ") and "---" not in line][1:]
    names = [row.split("|")[1].strip() for row in rows]
    assert len(rows) == 10 and all("| skipped: no CUDA |" in row for row in rows)
    for expected in ("bf16 autocast", "channels_last", "torch.compile", "DDP, 1 process, NCCL",
                     "expand_items on the device", "bench/train_sis.py CUDA", "bench/fid.py CUDA",
                     "bench/versus_official.py CUDA"):
        assert expected in names
    assert not (tmp_path / "out").exists()
    assert time.time() - start < 30


def test_versus_official_check_passes_the_official_root_only_when_given():
    """The CUDA command line of the versus-official check parses with the bench's own parser (a CPU dry check)."""
    without = gpu_check.versus_official_command(None)
    assert "--official-root" not in without and {"--bf16", "--compile"} <= set(without)
    args = versus_official.parse_args(without)
    assert args.device == "cuda" and args.official_root is None and "rss" not in args.steps
    args = versus_official.parse_args(gpu_check.versus_official_command("/x/official"))
    assert args.official_root == "/x/official"


def test_versus_official_figure_condenses_the_table():
    text = "\n".join(["header", "| step | official | semsynth | ratio | compile s |",
                      "|---|---:|---:|---:|---:|", "| SPADE G | 2.000 s | 1.000 s | 2.00 | – |",
                      "| SPADE G, semsynth bf16 | – | 0.5 s | – | – |"])
    assert gpu_check.versus_official_figure(text, "/x") == "SPADE G: 1.000 s x2.00; SPADE G, semsynth bf16: 0.5 s"
    assert gpu_check.versus_official_figure(text, None).startswith("semsynth only (no --official-root); SPADE G")
