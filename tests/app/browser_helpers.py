"""What the browser test needs around the page: the system Chromium (Playwright's own browser download is not
reachable, so never `playwright install`), a free port, the app in a subprocess, and a decompression-bomb PNG."""
from __future__ import annotations

import os
import shutil
import socket
import struct
import subprocess
import sys
import time
import urllib.request
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
INSTALL_CHROMIUM = ("no Chromium found (looked for /usr/bin/chromium and chromium on PATH): the browser test drives the "
                    "system Chromium; install it with `apt-get install -y chromium` (Debian/Ubuntu, as root) or set "
                    "SEMSYNTH_CHROMIUM=/path/to/chromium")


def find_chromium() -> str | None:
    for candidate in (os.environ.get("SEMSYNTH_CHROMIUM"), *CHROMIUM_CANDIDATES):
        path = candidate and (candidate if os.path.isabs(candidate) else shutil.which(candidate))
        if path and os.access(path, os.X_OK):
            return path
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(args: list[str], port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, "-m", "semsynth.cli.main", "app", *args, "--port", str(port),
                                 "--device", "cpu"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def wait_until_serving(proc: subprocess.Popen, url: str, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with {proc.returncode}:\n{log.read_text()}")
        if is_serving(url):
            return
        time.sleep(0.5)
    raise TimeoutError(f"the app did not serve {url} within {timeout:.0f} s:\n{log.read_text()}")


def is_serving(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def bomb_png(path: Path, width: int = 20000, height: int = 20000) -> Path:
    """A valid 1-bit PNG of width x height zeros, written row by row: a few tens of KB that decode to 50 MB
    (400 Mpx; as 8-bit RGB, 1.2 GB)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    packer, row = zlib.compressobj(9), b"\0" * (1 + (width + 7) // 8)  # filter byte + packed bits
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b""))
    return path
