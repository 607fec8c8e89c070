"""Set-up of DataLoader worker processes.

A worker renders or decodes one item after another, and each item allocates and frees a few MB of numpy
temporaries. glibc hands freed blocks of that size back to the kernel at once and then takes a page fault for
every 4 KiB it gets back: about 850 faults and 2-4 ms of kernel time per 256x512 synthetic-streets scene, measured
on 2 cores (a tenth of the scene's cost). `init_worker` lets a worker keep that memory in its heap instead.
"""
from __future__ import annotations

import ctypes
import sys

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameters, from glibc's malloc.h


def keep_freed_memory(mmap_threshold: int = 32 << 20, trim_threshold: int = 64 << 20) -> bool:
    """Serve allocations below `mmap_threshold` bytes from the heap and keep up to `trim_threshold` bytes of freed
    heap for reuse. True when glibc took both settings; False elsewhere (macOS, musl), where nothing changes."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return mallopt(_M_MMAP_THRESHOLD, mmap_threshold) == 1 and mallopt(_M_TRIM_THRESHOLD, trim_threshold) == 1


def init_worker(worker_id: int) -> None:
    """`worker_init_fn` of every DataLoader that reads a semsynth data set."""
    keep_freed_memory()
