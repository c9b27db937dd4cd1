"""A zoo opened from a lockfile reads only what the lockfile pins, in Python and on the command line.

The world: STUB published as v1..v3 with ``stable`` at v2, locked as ``STUB@stable``;
then ``stable`` moves to v3 and v4 is published. The consumer is a second machine:
a fresh home and cache, no checkout, its working directory holding only the lockfile.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import STUB, hermetic_env, hermetic_home, old_form, tree_bytes
from zoo_repo import Zoo
from zoo_repo.core.lockfile import LOCKABLE_OPTIONS, parse_lock
from zoo_repo.core.manifest import digest_of
from zoo_repo.errors import ManifestError, NotPinned, PinMismatch, ZooError
from zoo_repo.ops.demo import STUB_PRUNED
from zoo_repo.repo.dvc import SECRET_OPTIONS

LABEL = "sample-labels/lab-0000.npy"  # differs between versions: v1's holds b"v1"…


@dataclass(frozen=True)
class World:
    zoo: Zoo  # the publisher's checkout
    remote: Path
    lockfile: Path  # the publisher's copy
    digests: dict[int, str]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, built_models: dict[str, Path]) -> Iterator[World]:
    base = tmp_path_factory.mktemp("pins")
    with hermetic_home(base / "publisher-home"):
        zoo = Zoo.init(base / "zoo", remote=str(base / "remote"))
        model = base / "model"
        shutil.copytree(built_models["base"], model)
        for n in (1, 2, 3):
            (model / LABEL).write_bytes(f"v{n}".encode())
            zoo.publish(model, STUB, run=False)
        zoo.publish(built_models["pruned"], STUB_PRUNED, run=False)
        zoo.tag(f"{STUB}@v2", "stable")
        lockfile = base / "zoo.lock"
        zoo.lock([f"zoo:{STUB}@stable"], lockfile)
        # After the lock: what `stable` and `latest` name moves on.
        zoo.tag(f"{STUB}@v3", "stable")
        (model / LABEL).write_bytes(b"v4")
        zoo.publish(model, STUB, run=False)
        yield World(zoo, base / "remote", lockfile, {n: zoo.digest(STUB, n) for n in (1, 2, 3, 4)})


@pytest.fixture
def machine(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A second machine: a fresh home and cache, cwd a folder holding only a copy of the lockfile."""
    for var, value in hermetic_env(tmp_path / "home").items():
        monkeypatch.setenv(var, value)
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "cache"))
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(world.lockfile, project / "zoo.lock")
    monkeypatch.chdir(project)
    return project


def test_the_lockfile_pins_stable_as_it_was(world: World) -> None:
    lock = parse_lock(world.lockfile.read_text())
    assert [(p.stub, p.selector, p.version, p.digest) for p in lock.pins] == [(STUB, "stable", 2, world.digests[2])]
    assert world.zoo.resolve(f"{STUB}@stable").version == 3  # the publisher's zoo moved on


def test_pull_at_the_pinned_selector_gives_the_pinned_bytes(world: World, machine: Path) -> None:
    zoo = Zoo.open("zoo.lock")
    pulled = zoo.pull(f"zoo:{STUB}@stable", dest=machine / "m")
    assert pulled.manifest.version == 2 and pulled.digest == world.digests[2]
    assert tree_bytes(machine / "m")[LABEL] == b"v2"
    # The pinned version by number or digest prefix is the same pin.
    assert zoo.resolve(f"{STUB}@v2").version == 2
    assert zoo.show(f"{STUB}@{world.digests[2][:15]}").version == 2
    plan = zoo.plan_pull(f"{STUB}@stable", dest=machine / "m")
    assert plan.manifest.version == 2
    # Listing shows the pinned world: one stub, at its pin; the remote still lists every version.
    assert [(str(m.stub), m.version) for m in zoo.list()] == [(STUB, 2)]
    assert [(str(s.stub), s.version) for s in zoo.summaries()] == [(STUB, 2)]
    assert zoo.versions(STUB) == [1, 2, 3, 4]
    zoo.fetch()  # everything pinned, and nothing else: offline, v2 pulls in full and v4 does not
    offline = Zoo.open(zoo.remote_url or "", offline=True)
    assert offline.pull(f"{STUB}@v2", dest=machine / "again").manifest.version == 2
    with pytest.raises(ZooError):
        offline.pull(f"{STUB}@v4", dest=machine / "v4")


def test_a_selector_other_than_the_pin_is_refused_naming_what_is_pinned(world: World, machine: Path) -> None:
    zoo = Zoo.open("zoo.lock")
    for selector in ("latest", "v3", "v1", world.digests[3][:15], "beta"):
        with pytest.raises(NotPinned) as caught:
            zoo.resolve(f"{STUB}@{selector}")
        assert caught.value.message == (f"{STUB}@{selector}: zoo.lock pins {STUB}@stable (v2), not @{selector}; "
                                        "a lockfile pins one version per stub")
        assert caught.value.exit_code == 2
    with pytest.raises(NotPinned, match="not @latest"):
        zoo.resolve(STUB)  # a bare stub means @latest, which is not what was pinned
    with pytest.raises(NotPinned):
        zoo.pull_many([f"{STUB}@stable", f"{STUB}@v4"], dest=machine / "many")
    assert not (machine / "many").exists()  # every ref is resolved before any byte moves


def test_an_unpinned_stub_is_refused_naming_the_lockfile(world: World, machine: Path) -> None:
    zoo = Zoo.open("zoo.lock")
    with pytest.raises(NotPinned) as caught:
        zoo.pull(STUB_PRUNED, dest=machine / "p")
    assert caught.value.message == f"{STUB_PRUNED} is not pinned in zoo.lock"
    assert caught.value.hint == f"pin it with `zoo lock {STUB_PRUNED}[@SELECTOR] -f zoo.lock`"
    assert not (machine / "p").exists()
    with pytest.raises(NotPinned):
        zoo.fetch([STUB_PRUNED])


def test_a_pin_whose_manifest_was_rewritten_stops_before_any_byte(world: World, machine: Path, tmp_path: Path) -> None:
    remote = tmp_path / "rewritten"
    shutil.copytree(world.remote, remote)
    old_form(remote)  # its listing in one file, to rewrite
    (manifest,) = (p for p in remote.rglob("manifest.yaml") if p.parent.name == "v2" and STUB in p.as_posix())
    # Rewritten as a publisher with write access could: the manifest, and the index that vouches for it.
    manifest.chmod(0o644)
    manifest.write_text(manifest.read_text() + "# rewritten after the lock\n")
    index = remote / "zoo" / "index.json"
    index.chmod(0o644)
    index.write_text(index.read_text().replace(world.digests[2], digest_of(manifest.read_text())))
    lockfile = machine / "zoo.lock"
    lockfile.write_text(lockfile.read_text().replace(f"remote: {world.remote}", f"remote: {remote}"))
    zoo = Zoo.open("zoo.lock")
    with pytest.raises(PinMismatch) as caught:
        zoo.pull(f"{STUB}@stable", dest=machine / "m")
    actual = caught.value.actual
    assert actual != world.digests[2] and actual.startswith("sha256:")
    assert caught.value.message == (f"{STUB}@v2: the remote's manifest digest is {actual}, zoo.lock pins "
                                    f"{world.digests[2]}; nothing was pulled")
    assert not (machine / "m").exists()
    with pytest.raises(PinMismatch):
        zoo.pull_locked("zoo.lock", dest=machine / "locked")
    assert not (machine / "locked").exists()


def test_the_cli_resolves_through_the_same_pins(world: World, machine: Path, cli,  # type: ignore[no-untyped-def]
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    pulled = cli("--pins", "zoo.lock", "pull", f"{STUB}@stable", "--dest", machine / "a")
    assert pulled.exit_code == 0, pulled.stderr
    assert tree_bytes(machine / "a")[LABEL] == b"v2"
    locked = cli("pull", "--locked", f"zoo:{STUB}@stable", "--dest", machine / "b")
    assert locked.exit_code == 0, locked.stderr
    assert tree_bytes(machine / "b")[LABEL] == b"v2"

    latest = cli("--pins", "zoo.lock", "show", STUB)
    assert latest.exit_code == 2
    assert latest.stderr.splitlines()[0] == (f"Error: {STUB}@latest: zoo.lock pins {STUB}@stable (v2), not @latest; "
                                             "a lockfile pins one version per stub")
    unpinned = cli("pull", "--locked", STUB_PRUNED, "--dest", machine / "c")
    assert unpinned.exit_code == 2
    assert unpinned.stderr.splitlines() == [f"Error: {STUB_PRUNED} is not pinned in zoo.lock",
                                            f"Hint: pin it with `zoo lock {STUB_PRUNED}[@SELECTOR] -f zoo.lock`"]
    assert not (machine / "c").exists()

    monkeypatch.setenv("ZOO_PINS", "zoo.lock")
    listed = cli("list", "--json")
    assert listed.exit_code == 0, listed.stderr
    assert STUB in listed.stdout and STUB_PRUNED not in listed.stdout
    shown = cli("show", f"{STUB}@v2")
    assert shown.exit_code == 0, shown.stderr
    for result in (latest, unpinned):
        assert "Traceback" not in result.stderr


def test_the_cli_refuses_a_rewritten_pin_in_one_line(world: World, machine: Path, cli) -> None:  # type: ignore[no-untyped-def]
    lockfile = machine / "zoo.lock"
    lockfile.write_text(lockfile.read_text().replace(world.digests[2], world.digests[1]))
    for args in (("--pins", "zoo.lock", "pull", f"{STUB}@stable"), ("pull", "--locked")):
        got = cli(*args, "--dest", machine / "out")
        assert got.exit_code == 2, got.stderr
        first = got.stderr.splitlines()[0]
        assert first.startswith(f"Error: {STUB}@v2: the remote's manifest digest is {world.digests[2]}, zoo.lock pins "
                                f"{world.digests[1]}")
        assert "Traceback" not in got.stderr
        assert not (machine / "out").exists()


def test_a_lock_opened_zoo_adds_pins_from_what_is_published(world: World, machine: Path, cli) -> None:  # type: ignore[no-untyped-def]
    added = cli("lock", STUB_PRUNED)  # what the hint says: outside a checkout, through the lockfile's remote
    assert added.exit_code == 0, added.stderr
    lock = parse_lock((machine / "zoo.lock").read_text())
    assert [(p.stub, p.version) for p in lock.pins] == [(STUB, 2), (STUB_PRUNED, 1)]
    assert Zoo.open("zoo.lock").pull(STUB_PRUNED, dest=machine / "p").manifest.version == 1


def test_pins_never_narrow_what_gc_push_and_verify_see(world: World) -> None:
    pinned = Zoo.open(world.zoo.root).pinned_by(world.lockfile)
    assert {(str(m.stub), m.version) for m in pinned.all_manifests()} == \
        {(STUB, 1), (STUB, 2), (STUB, 3), (STUB, 4), (STUB_PRUNED, 1)}
    assert [str(s) for s in pinned.stubs()] == [STUB, STUB_PRUNED]


def test_a_lockfile_never_carries_a_secret(tmp_path: Path) -> None:
    assert not LOCKABLE_OPTIONS & SECRET_OPTIONS
    digest = "sha256:" + "0" * 64
    for text, problem in (
        (f"remote: s3://AKIA:hunter2@models/zoo\nmodels:\n- {{stub: {STUB}, version: v1, digest: '{digest}'}}\n",
         "carries a user name and password"),
        (f"remote: s3://models/zoo\nmodels:\n- {{stub: {STUB}, version: v1, digest: '{digest}'}}\n"
         f"- {{stub: {STUB}, version: v2, digest: '{digest}'}}\n", "is pinned twice"),
    ):
        with pytest.raises(ManifestError, match=problem) as caught:
            parse_lock("schema: 1\n" + text, "crafted.lock")
        assert "hunter2" not in str(caught.value)
