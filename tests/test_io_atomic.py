"""semsynth/io_atomic.py: a failed write leaves the old file, new files get the umask's mode, not mkstemp's 0600."""
import os
import stat

import pytest

from semsynth.io_atomic import atomic_write, atomic_write_text


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_write_that_fails_midway_leaves_the_old_file_and_no_temp_file(tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{"old": true}')

    def full_disk(tmp):
        with open(tmp, "w") as f:
            f.write('{"new": ')
        raise OSError(28, "No space left on device")
    with pytest.raises(OSError, match="No space left"):
        atomic_write(path, full_disk)
    assert path.read_text() == '{"old": true}'
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]


def test_new_files_get_the_umask_mode_and_replaced_files_keep_theirs(tmp_path, umask_022):
    new = atomic_write_text(tmp_path / "sub" / "a.json", "{}")
    assert stat.S_IMODE(new.stat().st_mode) == 0o644 and new.read_text() == "{}"
    kept = tmp_path / "b.json"
    kept.write_text("old")
    kept.chmod(0o640)
    atomic_write_text(kept, "new")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640 and kept.read_text() == "new"


def test_the_temp_name_keeps_the_suffix_for_writers_that_choose_the_format_by_it(tmp_path):
    seen = []
    atomic_write(tmp_path / "grid.png", lambda tmp: seen.append(tmp) or open(tmp, "wb").close())
    assert seen[0].endswith(".png") and os.path.basename(seen[0]).startswith(".grid.png.")
