"""Output folders of `sample` and `generate`: their files are numbered, so a second run with a smaller --n would
leave the first run's higher-numbered files beside the new ones, looking like part of the new run. A folder that
already holds such files is refused; --overwrite removes exactly those (and nothing else) first."""
from __future__ import annotations

import re
from pathlib import Path

# every name `sample` or `generate` writes: 00012.png, 00012_label.png, 00012_color.png, 00012_photo3.png, grid.png
OUTPUT_NAME = re.compile(r"(\d{5,}(_label|_color|_photo\d+)?|grid)\.png")


def earlier_outputs(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if OUTPUT_NAME.fullmatch(p.name) and p.is_file())


def prepare_output_folder(out, overwrite: bool = False) -> Path:
    """Create `out` (an error naming it when a file is in the way); refuse it when it holds earlier outputs, unless
    `overwrite`, which deletes them."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"--out {out} is a file, not a folder; choose another path")
    out.mkdir(parents=True, exist_ok=True)
    found = earlier_outputs(out)
    if found and not overwrite:
        raise FileExistsError(f"--out {out} already holds {len(found)} outputs of an earlier run (e.g. "
                              f"{found[0].name}); choose an empty folder, or pass --overwrite to delete them first")
    for path in found:
        path.unlink()
    return out
