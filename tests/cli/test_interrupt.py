"""Ctrl-C: exit 130, as shells expect, and nothing partial left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import STUB
from zoo_repo import Zoo


def _largest_temp(folder: Path) -> int:
    sizes = [0]
    for path in folder.glob(".object.tmp-*"):
        try:
            sizes.append(path.stat().st_size)
        except FileNotFoundError:  # renamed into the store meanwhile
            pass
    return max(sizes)


def test_ctrl_c_during_publish_exits_130_and_keeps_nothing_partial(zoo: Zoo, model_dir: Path) -> None:
    (model_dir / "sample-originals").mkdir()
    with open(model_dir / "sample-originals" / "big.bin", "wb") as fh:
        for _ in range(64):  # 512 MiB to hash and store: long enough to be interrupted mid-way
            fh.write(os.urandom(8 << 20))
    # A suite started in the background (`cmd &` in a shell without job control)
    # inherits SIGINT ignored, and so would zoo: the child gets the default back,
    # as a terminal's foreground process has it.
    proc = subprocess.Popen([sys.executable, "-m", "zoo_repo", "--zoo", str(zoo.root), "publish", str(model_dir),
                             "--stub", STUB, "--no-run"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    tmp = zoo.root / "store" / "tmp"
    deadline = time.monotonic() + 120
    # Interrupt it mid-way through storing the big file: once its temp object has grown.
    while _largest_temp(tmp) <= 16 << 20:
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "Interrupted." and "Traceback" not in err
    assert zoo.versions(STUB) == []
    assert not list((zoo.root / "store" / "tmp").glob("*"))  # the temp object went with the process
    assert zoo.verify().ok
    again = subprocess.run([sys.executable, "-m", "zoo_repo", "--zoo", str(zoo.root), "publish", str(model_dir),
                            "--stub", STUB, "--no-run"], capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
