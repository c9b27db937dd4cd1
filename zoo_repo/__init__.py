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
    "Card": "card", "Metric": "card", "parse_card": "card",
    "FileEntry": "manifest", "Manifest": "manifest", "parse_manifest": "manifest",
    "Ref": "stub", "Stub": "stub", "parse_ref": "stub", "parse_stub": "stub",
    "ListFilter": "zoo", "Zoo": "zoo",
    **{name: "errors" for name in (
        "CardError", "DestinationConflict", "IntegrityError", "ManifestError", "ModelDirError", "NotAZooError",
        "NotFound", "ObjectMissing", "Offline", "RemoteError", "StubError", "ToolError", "UsageError", "ZooError",
    )},
}

if TYPE_CHECKING:
    from .card import Card, Metric, parse_card
    from .errors import (
        CardError,
        DestinationConflict,
        IntegrityError,
        ManifestError,
        ModelDirError,
        NotAZooError,
        NotFound,
        ObjectMissing,
        Offline,
        RemoteError,
        StubError,
        ToolError,
        UsageError,
        ZooError,
    )
    from .manifest import FileEntry, Manifest, parse_manifest
    from .stub import Ref, Stub, parse_ref, parse_stub
    from .zoo import ListFilter, Zoo


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
    "ObjectMissing",
    "Offline",
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
