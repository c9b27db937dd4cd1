"""gc remembers what each manifest names (under its git blob id): a speed-up that never keeps less."""

from __future__ import annotations

import hashlib
import hmac
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.conftest import STUB
from zoo_repo import Zoo
from zoo_repo.errors import ManifestError

OTHER = STUB.rsplit("/", 1)[0] + "/pruned-conservative"


def _referenced(zoo: Zoo) -> set[str]:
    found = set()
    for manifest in zoo.all_manifests():
        found.add(manifest.tree_md5 + ".dir")
        found.update(f.md5 for f in manifest.files)
    return found


def _remembered_rows(zoo: Zoo) -> list[tuple[str, str]]:
    with sqlite3.connect(zoo.root / ".zoo" / "stat.sqlite") as db:
        return db.execute("select digest, doc from manifest_docs where digest like 'version-refs:%'").fetchall()


def test_a_remembered_list_that_was_tampered_with_is_not_believed(zoo: Zoo, model_dir: Path) -> None:
    zoo.publish(model_dir, STUB)
    assert zoo.plan_gc().objects == ()
    rows = _remembered_rows(zoo)
    assert len(rows) == 1  # the version's names were remembered
    # A remembered list claiming the version names nothing but a file list that does not exist:
    # believed, gc would remove every object of the version.
    forged = f'["{STUB}@v1","{"0" * 32}",[]]'
    with sqlite3.connect(zoo.root / ".zoo" / "stat.sqlite") as db:
        db.execute("update manifest_docs set doc = ? where digest like 'version-refs:%'", (forged,))
    referenced = _referenced(zoo)
    plan = zoo.plan_gc()
    assert plan.objects == ()
    plan.execute()
    assert referenced <= set(zoo.store.oids())


def test_what_is_remembered_follows_the_manifests(zoo: Zoo, model_dir: Path) -> None:
    first = zoo.publish(model_dir, STUB).manifest
    (model_dir / "model.md").write_text((model_dir / "model.md").read_text() + "\nSecond version.\n")
    second = zoo.publish(model_dir, STUB).manifest
    assert zoo.plan_gc().objects == ()  # both versions remembered
    subprocess.run(["git", "rm", "-q", "-r", f"manifests/{STUB}/v1"], cwd=zoo.root, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "drop v1"], cwd=zoo.root, check=True)
    only_first = ({first.tree_md5 + ".dir"} | {f.md5 for f in first.files}) - \
        ({second.tree_md5 + ".dir"} | {f.md5 for f in second.files})
    assert only_first  # the card differs, so v1 had objects of its own
    assert set(zoo.plan_gc().objects) == only_first


def test_a_manifest_copied_to_another_stub_is_refused_though_its_text_was_seen(zoo: Zoo, model_dir: Path) -> None:
    zoo.publish(model_dir, STUB)
    assert zoo.plan_gc().objects == ()  # the text is remembered under its blob id
    shutil.copytree(zoo.root / "manifests" / STUB, zoo.root / "manifests" / OTHER)
    with pytest.raises(ManifestError, match="its path says"):
        zoo.plan_gc()


def _objects(manifest) -> set[str]:  # type: ignore[no-untyped-def]
    return {manifest.tree_md5 + ".dir"} | {f.md5 for f in manifest.files}


def test_the_working_tree_is_heads_commit_but_for_what_git_says_it_changes(zoo: Zoo, model_dir: Path) -> None:
    first = zoo.publish(model_dir, STUB).manifest
    (model_dir / "model.md").write_text((model_dir / "model.md").read_text() + "\nSecond version.\n")
    second = zoo.publish(model_dir, STUB, commit=False).manifest  # in the working tree only
    assert subprocess.run(["git", "status", "--porcelain"], cwd=zoo.root, capture_output=True,
                          text=True).stdout.strip()
    own = _objects(second) - _objects(first)
    assert own
    assert zoo.plan_gc().objects == ()  # the uncommitted version's objects are kept

    # Committed, then only a detached HEAD holds it: HEAD is a tip of its own.
    subprocess.run(["git", "add", "-A", "manifests"], cwd=zoo.root, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "v2"], cwd=zoo.root, check=True)
    subprocess.run(["git", "checkout", "-q", "--detach"], cwd=zoo.root, check=True)
    subprocess.run(["git", "branch", "-q", "-D", "main"], cwd=zoo.root, check=True)
    assert zoo.plan_gc().objects == ()
    assert own <= set(zoo.store.oids())


def test_a_file_git_is_told_not_to_look_at_makes_gc_read_the_whole_working_tree(zoo: Zoo, model_dir: Path) -> None:
    zoo.publish(model_dir, STUB)
    (model_dir / "model.md").write_text((model_dir / "model.md").read_text() + "\nSecond version.\n")
    zoo.publish(model_dir, STUB)
    v1, v2 = (zoo.root / "manifests" / STUB / v / "manifest.yaml" for v in ("v1", "v2"))
    v2.chmod(0o644)
    v2.write_text(v1.read_text())  # its path says v2, its text v1
    subprocess.run(["git", "update-index", "--assume-unchanged", str(v2.relative_to(zoo.root))], cwd=zoo.root,
                   check=True)
    assert subprocess.run(["git", "diff", "--name-only"], cwd=zoo.root, capture_output=True, text=True).stdout == ""
    with pytest.raises(ManifestError, match="its path says"):  # read from disk, as git would not
        zoo.plan_gc()


def test_a_remembered_commit_that_was_tampered_with_is_not_believed(zoo: Zoo, model_dir: Path) -> None:
    manifest = zoo.publish(model_dir, STUB).manifest
    assert zoo.plan_gc().objects == ()
    path = zoo.root / ".zoo" / "head-names"
    magic, mac, body = path.read_bytes().split(b"\n", 2)
    commit, *lines = body.decode().splitlines()
    assert lines and all(line.split("\t")[2] for line in lines)  # HEAD's names, remembered whole
    lie = "".join([f"{commit}\n", *(line.rsplit("\t", 1)[0] + "\t\n" for line in lines)]).encode()  # "no names"
    where = str(zoo.root.resolve()).encode()
    other_key = hmac.new(b"k" * 32, magic + b"\n\0" + where + b"\0" + lie, hashlib.sha256).hexdigest().encode()
    for forged in (magic + b"\n" + mac + b"\n" + lie, magic + b"\n" + other_key + b"\n" + lie):
        path.write_bytes(forged)
        plan = zoo.plan_gc()
        assert plan.objects == ()
        plan.execute()
        assert _objects(manifest) <= set(zoo.store.oids())


def test_a_version_inside_a_submodule_is_read_from_disk(zoo: Zoo, model_dir: Path) -> None:
    zoo.publish(model_dir, STUB)
    (model_dir / "model.md").write_text((model_dir / "model.md").read_text() + "\nSecond version.\n")
    second = zoo.publish(model_dir, STUB).manifest
    v2 = f"manifests/{STUB}/v2"
    ident = ["-c", "user.email=ci@example.com", "-c", "user.name=ci"]
    # v2's files become a repository of their own, which HEAD records as a submodule's commit.
    subprocess.run(["git", "rm", "-q", "-r", "--cached", v2], cwd=zoo.root, check=True)
    subprocess.run(["git", "init", "-q"], cwd=zoo.root / v2, check=True)
    subprocess.run(["git", "add", "-A"], cwd=zoo.root / v2, check=True)
    subprocess.run(["git", *ident, "commit", "-q", "-m", "v2"], cwd=zoo.root / v2, check=True)
    subprocess.run(["git", "add", v2], cwd=zoo.root, check=True, capture_output=True)
    subprocess.run(["git", *ident, "commit", "-q", "-m", "v2 as a submodule"], cwd=zoo.root, check=True)
    assert "160000" in subprocess.run(["git", "ls-files", "-s", v2], cwd=zoo.root, capture_output=True,
                                      text=True).stdout
    assert zoo.plan_gc().objects == ()  # what the working tree holds there is read, as git cannot see it
    assert _objects(second) <= set(zoo.store.oids())
