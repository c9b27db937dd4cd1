"""A deprecation reaches consumers with only a URL on every backend: seen by list and
pull once committed on main, gone again once taken back."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import STUB
from tests.remote.conftest import Backend
from zoo_repo import Zoo
from zoo_repo.core.deprecation import Deprecation
from zoo_repo.ops.demo import STUB_PRUNED


def _open(backend: Backend, cache: Path) -> Zoo:
    url = backend.url if "://" in backend.url else Path(backend.url).as_uri()
    return Zoo.open(url, remote_options=backend.options, cache_dir=cache)


def test_deprecation_on_main_is_seen_without_git(remote_zoo: Zoo, backend: Backend, built_models: dict[str, Path],
                                                 tmp_path: Path) -> None:
    remote_zoo.publish(built_models["base"], STUB)
    remote_zoo.publish(built_models["pruned"], STUB_PRUNED)
    assert remote_zoo.deprecate(STUB, "retired", successor=STUB_PRUNED).listed
    them = _open(backend, tmp_path / "c1")
    assert [str(m.stub) for m in them.list()] == [STUB_PRUNED]
    assert them.pull(STUB, dest=tmp_path / "out").deprecated == Deprecation("retired", STUB_PRUNED)
    remote_zoo.undeprecate(STUB)
    assert _open(backend, tmp_path / "c2").deprecation(STUB) is None
