"""zoo_repo: a git-native model zoo. Stubs name models, manifests in git name
their files, a content-addressed store (DVC's cache) holds them once, and any
fsspec remote (DVC's remote layout) carries them between machines.

    from zoo_repo import Zoo
    zoo = Zoo.open("path/to/zoo")
    zoo.publish("my-model/", "cv/classification/resnet_v1-50/pytorch/sparseml/imagenet/base-none")
    result = zoo.pull("zoo:cv/classification/resnet_v1-50/pytorch/sparseml/imagenet/base-none@v1",
                      dest="resnet50")
"""

from typing import TYPE_CHECKING, Any

# Attributes are imported on first use (PEP 562), so that `import zoo_repo`
# (and with it `zoo --help`) does not pay for YAML, fsspec or dvc.
_EXPORTS = {
    "Card": "core.card", "Metric": "core.card", "parse_card": "core.card",
    "FileEntry": "core.manifest", "Manifest": "core.manifest", "parse_manifest": "core.manifest",
    "Ref": "core.stub", "Stub": "core.stub", "parse_ref": "core.stub", "parse_stub": "core.stub",
    "ListFilter": "api", "Zoo": "api",
    **{name: "errors" for name in (
        "CardError", "Claimed", "DestinationConflict", "IntegrityError", "ManifestError", "ModelDirError",
        "NotAZooError", "NotFound", "NotPinned", "ObjectMissing", "Offline", "PinMismatch", "ProjectionMoved",
        "RemoteError", "StubError", "ToolError", "UsageError", "ZooError",
    )},
}

if TYPE_CHECKING:
    from zoo_repo.api import ListFilter, Zoo
    from zoo_repo.core.card import Card, Metric, parse_card
    from zoo_repo.core.manifest import FileEntry, Manifest, parse_manifest
    from zoo_repo.core.stub import Ref, Stub, parse_ref, parse_stub
    from zoo_repo.errors import (
        CardError,
        Claimed,
        DestinationConflict,
        IntegrityError,
        ManifestError,
        ModelDirError,
        NotAZooError,
        NotFound,
        NotPinned,
        ObjectMissing,
        Offline,
        PinMismatch,
        ProjectionMoved,
        RemoteError,
        StubError,
        ToolError,
        UsageError,
        ZooError,
    )


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'zoo_repo' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__version__ = "0.1.0"

__all__ = [
    "Card",
    "CardError",
    "Claimed",
    "DestinationConflict",
    "FileEntry",
    "IntegrityError",
    "ListFilter",
    "Manifest",
    "ManifestError",
    "Metric",
    "ModelDirError",
    "NotAZooError",
    "NotFound",
    "NotPinned",
    "ObjectMissing",
    "Offline",
    "PinMismatch",
    "ProjectionMoved",
    "Ref",
    "RemoteError",
    "Stub",
    "StubError",
    "ToolError",
    "UsageError",
    "Zoo",
    "ZooError",
    "parse_card",
    "parse_manifest",
    "parse_ref",
    "parse_stub",
]
