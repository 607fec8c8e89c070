"""Atomic file writes: readers (and a crash, a full disk, a kill) see the old file or the whole new one, never a
half-written one. The new content goes to a temp file in the same folder (so the rename cannot cross file
systems), is fsynced, then os.replace()d onto the target; the folder is fsynced so the rename itself survives a
power cut.

mkstemp creates its files with mode 0600; the result gets the mode a plain open() would have given it (the
target's mode when it exists, else 0666 minus the umask), so exported models stay readable by the group.
"""
from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import Callable


def _umask() -> int:
    mask = os.umask(0)  # reading the umask means setting it; put it straight back
    os.umask(mask)
    return mask


def _fsync(path, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path, write: Callable[[str], object]) -> Path:
    """Call `write(tmp_path)` and move the result onto `path`. The temp name keeps the target's suffix (writers
    such as PIL pick the format from it) and starts with a dot; on any error it is removed and the old `path`
    stays as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o666 & ~_umask()
        os.chmod(tmp, mode)
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync(path.parent, directory=True)
    return path


def atomic_write_text(path, text: str) -> Path:
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text))
