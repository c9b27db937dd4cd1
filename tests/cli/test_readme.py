"""README's first command, run literally from the root of a fresh clone of the project."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
# Read before the hermetic fixture moves HOME: a fresh venv installs from pip's
# wheel cache rather than downloading every dependency again.
PIP_CACHE = os.environ.get("PIP_CACHE_DIR") or str(Path.home() / ".cache" / "pip")


def readme_commands() -> list[str]:
    """The ```bash blocks of README.md, in order."""
    text = (PROJECT / "README.md").read_text(encoding="utf-8")
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", text, re.S)]


def fresh_clone(dest: Path) -> Path:
    """A clone of the project as it is: HEAD, plus any uncommitted edits of tracked
    or new (not ignored) files, so a change is tried before it is committed."""
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(PROJECT), str(dest)], check=True)
    listed = subprocess.run(["git", "ls-files", "-z", "--modified", "--others", "--exclude-standard"],
                            cwd=PROJECT, capture_output=True, check=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        src = PROJECT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
        else:
            (dest / rel).unlink(missing_ok=True)  # deleted in the working tree
    return dest


def test_readmes_first_command_works_in_a_fresh_clone(tmp_path: Path) -> None:
    first = readme_commands()[0]
    assert first.endswith("zoo demo"), first  # the command the README promises runs the demo
    clone = fresh_clone(tmp_path / "zoo-repo")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    # PATH without this suite's venv: `python3` is the machine's, as for a new user.
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep)
                                  if not p.startswith(str(PROJECT / ".venv")))
    env["PIP_CACHE_DIR"] = PIP_CACHE
    proc = subprocess.run(["bash", "-c", first], cwd=clone, capture_output=True, text=True, env=env,
                          timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "byte-identical" in proc.stdout
    demo_zoo = clone / "zoo-demo" / "zoo"
    # The demo's zoo is a repository of its own, on main, and the clone stays clean.
    top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=demo_zoo, capture_output=True, text=True)
    assert Path(top.stdout.strip()) == demo_zoo
    branch = subprocess.run(["git", "branch", "--show-current"], cwd=demo_zoo, capture_output=True, text=True)
    assert branch.stdout.strip() == "main"
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=clone,
                            capture_output=True, text=True)
    changed = {line[3:] for line in status.stdout.splitlines()}
    uncommitted = set(subprocess.run(["git", "ls-files", "--modified", "--others", "--exclude-standard"],
                                     cwd=PROJECT, capture_output=True, text=True).stdout.split())
    assert changed <= uncommitted  # the demo wrote nothing git would see
