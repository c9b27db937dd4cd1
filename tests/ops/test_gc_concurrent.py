"""gc deletes only what is unreferenced when it runs, not when it planned."""

from __future__ import annotations

import fcntl
from pathlib import Path

from tests.conftest import STUB
from zoo_repo import Zoo
from zoo_repo.store.objects import LOCK_NAME


def test_an_object_referenced_after_planning_is_kept(zoo: Zoo, model_dir: Path) -> None:
    zoo.publish(model_dir, STUB)
    orphan = b"an object no manifest names yet"
    oid = zoo.store.add_bytes(orphan)
    plan = zoo.plan_gc()
    assert oid in plan.objects
    # Between planning and executing, a publish comes to reference it.
    (model_dir / "sample-originals").mkdir()
    (model_dir / "sample-originals" / "new.bin").write_bytes(orphan)
    zoo.publish(model_dir, STUB)
    plan.execute()
    assert zoo.store.has(oid)
    assert zoo.verify().ok


def test_gc_waits_for_the_store_lock_that_pulls_hold(zoo: Zoo, model_dir: Path) -> None:
    zoo.publish(model_dir, STUB)
    lock = zoo.store.root / LOCK_NAME
    zoo.store.add_bytes(b"garbage")
    with zoo.store.lock(shared=True):  # what a running pull or publish holds
        with open(lock, "a") as fh:  # an exclusive lock (gc's) cannot be had meanwhile
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                got = True
            except BlockingIOError:
                got = False
        assert not got
    with zoo.store.lock():  # and once released, gc's lock is granted
        pass
    zoo.plan_gc().execute()
    assert zoo.plan_gc().objects == ()
