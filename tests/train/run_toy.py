"""Subprocess driver for engine tests: `python run_toy.py CONFIG_JSON [--resume] [--hash-dir DIR]
[--checkpoint-delay STEP:SECONDS]` trains the toy task (also under `python -m torch.distributed.run`); with
--hash-dir every rank writes rank<r>.json holding a SHA-256 of each net's weights and of its optimizer state; with
--checkpoint-delay the write of checkpoint STEP pauses for SECONDS after its first file (a test kills it there)."""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for `import toy_task`

import torch  # noqa: E402

from semsynth.train import checkpoint as ckpt  # noqa: E402
from semsynth.train.config import RunConfig  # noqa: E402
from semsynth.train.distributed import init_distributed, shutdown  # noqa: E402
from semsynth.train.engine import Trainer  # noqa: E402
import toy_task  # noqa: E402


def digest(tensors: dict[str, torch.Tensor]) -> str:
    h = hashlib.sha256()
    for k in sorted(tensors):
        h.update(k.encode())
        h.update(tensors[k].detach().cpu().reshape(-1).contiguous().view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def delay_checkpoint(spec: str) -> None:
    """Monkeypatch checkpoint.save_file so that writing checkpoint STEP ("STEP:SECONDS") stops for SECONDS after its
    first net file, with the temp folder half written."""
    step, seconds = spec.split(":")
    real_save_file = ckpt.save_file

    def save_then_wait(tensors, filename, metadata=None):
        real_save_file(tensors, filename, metadata=metadata)
        if (metadata or {}).get("step") == str(int(step)):
            time.sleep(float(seconds))
    ckpt.save_file = save_then_wait


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("config")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--hash-dir")
    ap.add_argument("--checkpoint-delay", help="STEP:SECONDS")
    args = ap.parse_args()
    if args.checkpoint_delay:
        delay_checkpoint(args.checkpoint_delay)
    toy_task.register()
    run = RunConfig.from_json(args.config)
    info = init_distributed(run.train.device)
    try:
        trainer = Trainer(run, info)
        trainer.train(args.resume)
        if args.hash_dir:
            # StyleGAN2's w_avg is a per-rank running average of the rank's own latents (DDP hands rank 0's to
            # every rank at each forward); stylegan2-ada's consistency check skips it too
            hashes = {name: digest({k: v for k, v in net.state_dict().items() if not k.endswith("w_avg")})
                      for name, net in trainer.unwrapped.items()}
            for name, opt in trainer.optimizers.items():
                state = opt.state_dict()["state"]
                hashes[f"opt_{name}"] = digest({f"{i}.{k}": v for i, s in state.items() for k, v in s.items()
                                                if isinstance(v, torch.Tensor)})
            out = Path(args.hash_dir) / f"rank{info.rank}.json"
            out.write_text(json.dumps({"world_size": info.world_size, "step": trainer.step, "hashes": hashes}))
    finally:
        shutdown(info)


if __name__ == "__main__":
    main()
