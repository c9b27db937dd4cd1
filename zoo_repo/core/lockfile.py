"""Lockfiles: the exact versions an experiment uses, pinned by manifest digest.

``zoo.lock`` is reviewable YAML::

    # zoo.lock: pinned by `zoo lock`; pull exactly these with `zoo pull --locked`.
    schema: 1
    remote: s3://models/zoo
    trust: {approvals: 1, signers: {alice: 'sha256:…'}}   # when the zoo has a trust.yaml
    models:
    - {stub: cv/…/pruned-moderate, selector: stable, version: v2, digest: 'sha256:…'}

Pulling from a lock checks every pin before moving any byte: a version that
is gone, or whose manifest no longer has the pinned digest, stops the pull.

A zoo opened from a lockfile (``Zoo.open("zoo.lock")``, ``zoo --pins zoo.lock``)
resolves every reference through its pins (``Lock.pin_for``). The rule: a
lockfile pins one version per stub. A reference resolves when it names that
version: by the pinned selector (``@stable`` when ``stable`` was pinned), by
number (``@v2``) or by a prefix of the pinned digest. Any other selector, the
default ``latest`` included unless ``latest`` is what was pinned, is an error
naming what the lockfile pins, as is a stub it does not pin: resolving it to
something else would quietly undo the lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from zoo_repo.core import yamltext
from zoo_repo.core.stub import Ref, parse_stub, version_number
from zoo_repo.core.trust import Trust, pins_from_doc, pins_to_doc
from zoo_repo.core.urls import credential_problem, redact
from zoo_repo.errors import ManifestError, NotPinned, UsageError

SCHEMA = 1
# The remote options a lockfile may carry: where the remote is and how long to
# wait. Not secrets, not paths on the publisher's machine, and nothing that
# weakens checks (ssl_verify): a lockfile is input that anyone can hand over.
LOCKABLE_OPTIONS = frozenset({"endpointurl", "region", "read_timeout", "connect_timeout", "projectname",
                              "account_name", "allow_anonymous_login"})
DEFAULT_NAME = "zoo.lock"


@dataclass(frozen=True)
class Pin:
    stub: str
    selector: str  # what was asked for (latest, stable, v3…): what --check and --upgrade re-resolve
    version: int
    digest: str

    @property
    def ref(self) -> str:
        return f"{self.stub}@v{self.version}"


@dataclass(frozen=True)
class Lock:
    remote: str | None
    pins: tuple[Pin, ...]
    # The remote's non-secret options (endpointurl, region…): a consumer with
    # only the lockfile reaches the same endpoint. Secrets never go here.
    remote_options: dict[str, str] = field(default_factory=dict)
    where: str = field(default=DEFAULT_NAME, compare=False)  # the file it was read from, for messages
    # The signers whose approvals a pull through this lockfile requires (``core.trust``):
    # fingerprints, recorded from the zoo's reviewed policy by `zoo lock`.
    trust: Trust | None = None

    def pin_of(self, stub: str) -> Pin:
        """The pin of ``stub``, or NotPinned naming the lockfile."""
        for p in self.pins:
            if p.stub == stub:
                return p
        raise NotPinned(f"{stub} is not pinned in {self.where}", lockfile=self.where, ref=stub,
                        hint=f"pin it with `zoo lock {stub}[@SELECTOR] -f {self.where}`")

    def pin_for(self, ref: Ref) -> Pin:
        """The pin ``ref`` names (see the module's rule), or NotPinned saying what is pinned instead."""
        p = self.pin_of(str(ref.stub))
        if ref.selector == p.selector or ref.version == p.version \
                or (ref.kind == "digest" and p.digest.startswith(ref.selector)):
            return p
        raise NotPinned(
            f"{ref}: {self.where} pins {p.stub}@{p.selector} (v{p.version}), not @{ref.selector}; "
            "a lockfile pins one version per stub",
            lockfile=self.where, ref=str(ref),
            hint=f"ask for {p.stub}@{p.selector}, or re-pin with `zoo lock {ref} -f {self.where}`",
        )

    def to_text(self) -> str:
        doc: dict[str, object] = {"schema": SCHEMA, "remote": self.remote}
        if self.remote_options:
            doc["remote_options"] = dict(sorted(self.remote_options.items()))
        if self.trust is not None:
            doc["trust"] = pins_to_doc(self.trust)
        doc |= {
            "models": [yamltext.Flow(stub=p.stub, selector=p.selector, version=f"v{p.version}", digest=p.digest)
                       for p in sorted(self.pins, key=lambda p: p.stub)],
        }
        return "# zoo.lock: pinned by `zoo lock`; pull exactly these with `zoo pull --locked`.\n" + yamltext.dump(doc)


def parse_lock(text: str, where: str = DEFAULT_NAME) -> Lock:
    try:
        doc = yamltext.load(text)
    except yamltext.YamlProblem as exc:
        raise ManifestError(where, str(exc)) from exc
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA or not isinstance(doc.get("models"), list):
        raise ManifestError(where, f"expected a zoo lockfile (schema: {SCHEMA}, models: [...])")
    pins: list[Pin] = []
    for i, raw in enumerate(doc["models"]):
        if not isinstance(raw, dict):
            raise ManifestError(where, f"models[{i}] must be a mapping")
        version = version_number(raw.get("version", "")) if isinstance(raw.get("version"), str) else None
        digest = raw.get("digest")
        if version is None or not isinstance(digest, str) or not digest.startswith("sha256:"):
            raise ManifestError(where, f"models[{i}] needs version: vN and digest: sha256:…")
        try:
            stub = str(parse_stub(str(raw.get("stub"))))
        except UsageError as exc:
            raise ManifestError(where, f"models[{i}]: {exc.message}") from exc
        if any(p.stub == stub for p in pins):  # which of two would a reference mean?
            raise ManifestError(where, f"models[{i}]: {stub} is pinned twice; a lockfile pins one version per stub")
        pins.append(Pin(stub, str(raw.get("selector") or f"v{version}"), version, digest))
    remote = doc.get("remote")
    problem = credential_problem(remote) if isinstance(remote, str) else None
    if problem is not None and isinstance(remote, str):
        raise ManifestError(where, f"remote {redact(remote)} carries {problem}; a lockfile never holds a secret")
    options = doc.get("remote_options") or {}
    if not isinstance(options, dict) or not all(isinstance(k, str) and isinstance(v, (str, int, bool))
                                                for k, v in options.items()):
        raise ManifestError(where, "remote_options must map option names to values")
    refused = sorted(set(options) - LOCKABLE_OPTIONS)
    if refused:
        raise ManifestError(where, f"remote_options may not set {', '.join(refused)}; "
                                   f"expected only {', '.join(sorted(LOCKABLE_OPTIONS))}")
    trust = pins_from_doc(doc["trust"], where) if doc.get("trust") is not None else None
    return Lock(remote if isinstance(remote, str) else None, tuple(pins), {k: str(v) for k, v in options.items()},
                where, trust)


@dataclass(frozen=True)
class Stale:
    pin: Pin
    now: int  # the version the pin's selector resolves to today

    def line(self) -> str:
        return f"{self.pin.stub}@{self.pin.selector}: locked v{self.pin.version}, now v{self.now}"
