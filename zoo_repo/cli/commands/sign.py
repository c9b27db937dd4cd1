"""``zoo sign``, ``zoo approve``, ``zoo trust``: signatures of versions, and whose count."""

from __future__ import annotations

from typing import Any

import click

from zoo_repo.cli.complete import complete_ref
from zoo_repo.cli.options import json_option, print_json, remote_option
from zoo_repo.cli.state import State, pass_state

KEY_HELP = "An EC private key (PEM, unencrypted), as `model_signing` and `openssl ecparam -genkey` write."


def _doc_of(result: Any) -> dict[str, Any]:
    stub, _, version = result.ref.partition("@")
    return {"stub": stub, "version": version, "role": result.role, "signer": result.signer, "name": result.name,
            "file": str(result.path), "added": result.added, "commit": result.commit, "listed": result.listed}


def _signed(result: Any, as_json: bool) -> None:
    from zoo_repo.cli.render import WAITS

    who = result.name or result.signer[:23] + "…"
    if as_json:
        print_json(_doc_of(result))
        return
    if not result.added:
        click.echo(f"{result.ref} already carries {who}'s {result.role} signature: nothing added")
    else:
        what = "approved" if result.role == "approval" else f"signed ({result.role})"
        click.echo(f"{result.ref} {what} by {who}" + ("" if result.listed or not result.commit else WAITS))


@click.command(name="sign")
@click.argument("ref", metavar="STUB@VERSION", shell_complete=complete_ref)
@click.option("--key", type=click.Path(dir_okay=False), help=KEY_HELP)
@click.option("--signature", "bundle", type=click.Path(dir_okay=False), metavar="FILE",
              help="Instead of signing, add this signature made elsewhere (`model_signing sign key` over a "
              "pulled copy of the version); it must verify with a key trust.yaml or your pins list.")
@click.option("--role", type=click.Choice(["publisher", "attestation"]), default="publisher", show_default=True,
              help="What the signature says: the publisher's, or a later attestation (approvals: `zoo approve`).")
@click.option("--no-commit", is_flag=True, help="Write the signature file but leave committing to you.")
@json_option("Print the result as JSON.")
@pass_state
def sign(state: State, ref: str, key: str | None, bundle: str | None, role: str, no_commit: bool,
         as_json: bool) -> None:
    """Add a signature to a published version: a file in its directory
    (signatures/), committed; on the release branch also put on the remote."""
    if (key is None) == (bundle is None):
        raise click.UsageError("give --key KEY to sign, or --signature FILE to add a signature made elsewhere")
    zoo = state.zoo()
    if bundle is not None:
        _signed(zoo.attach_signature(ref, bundle, commit=not no_commit), as_json)
    else:
        _signed(zoo.sign(ref, key, role=role, commit=not no_commit), as_json)


@click.command(name="approve")
@click.argument("refs", nargs=-1, metavar="[STUB@VERSION]...", shell_complete=complete_ref)
@click.option("--key", required=True, type=click.Path(dir_okay=False), help=KEY_HELP)
@click.option("--since", metavar="REF", help="Approve every version added since this git ref (what a merge "
              "added: the after-merge CI job), in one commit.")
@click.option("--no-commit", is_flag=True, help="Write the signature files but leave committing to you.")
@json_option("Print the result as JSON.")
@pass_state
def approve(state: State, refs: tuple[str, ...], key: str, since: str | None, no_commit: bool,
            as_json: bool) -> None:
    """Sign versions as approved: they passed review and the gate. Pulls pinned to
    this zoo's maintainers need their approvals (see `zoo trust`)."""
    if bool(refs) == bool(since):
        raise click.UsageError("name the versions to approve, or give --since REF (not both)")
    zoo = state.zoo()
    if since:
        results = zoo.approve_added(since, key, commit=not no_commit)
        if as_json:
            print_json([_doc_of(r) for r in results])
        elif not results:
            click.echo(f"no version was added since {since}: nothing to approve")
        for result in results if not as_json else ():
            _signed(result, False)
        return
    results = [zoo.approve(ref, key, commit=not no_commit) for ref in refs]
    if as_json:
        print_json(_doc_of(results[0]) if len(results) == 1 else [_doc_of(r) for r in results])
        return
    for result in results:
        _signed(result, False)


@click.group(name="trust")
def trust() -> None:
    """Whose signatures count: the zoo's policy (trust.yaml, reviewed in git) and the
    signers you pinned (your config, per remote)."""


@trust.command(name="add")
@click.argument("name")
@click.argument("keyfile", type=click.Path(dir_okay=False))
@click.option("--policy", is_flag=True, help="Add the signer to the zoo's trust.yaml (for review) instead of "
              "pinning it for yourself.")
@click.option("--approvals", type=click.IntRange(min=1), help="How many signers' approvals a version needs.")
@click.option("--all-remotes", is_flag=True, help="Pin the signer for every remote, not only this zoo's: "
              "a checkout whose .dvc/config is pointed elsewhere still needs their approvals.")
@remote_option
@pass_state
def trust_add(state: State, name: str, keyfile: str, policy: bool, approvals: int | None, all_remotes: bool,
              remote_url: str | None) -> None:
    """Pin signer NAME's public KEYFILE: from then on, every pull from this zoo's
    remote needs that signer's approval. With --policy, write it into trust.yaml."""
    if policy and (remote_url or all_remotes):
        raise click.UsageError("--policy edits the checkout's trust.yaml; it takes no --remote or --all-remotes")
    zoo = state.zoo(remote_url) if not all_remotes else None
    if policy:
        assert zoo is not None
        found = zoo.add_signer(name, keyfile, approvals=approvals)
        click.echo(f"trust.yaml: {_lines(found)}; review and commit it")
        return
    if zoo is None:
        from zoo_repo.ops.trusting import pin_everywhere

        pins, where = pin_everywhere(name, keyfile, approvals)
        click.echo(f"pinned for every remote in {where}: {_lines(pins)}")
        return
    pins, where = zoo.pin_signer(name, keyfile, approvals=approvals)
    click.echo(f"pinned for {zoo.remote_url} in {where}: {_lines(pins)}")


@trust.command(name="remove")
@click.argument("name")
@click.option("--policy", is_flag=True, help="Remove the signer from the zoo's trust.yaml instead of your pins.")
@click.option("--all-remotes", is_flag=True, help="Remove the signer's pin for every remote.")
@remote_option
@pass_state
def trust_remove(state: State, name: str, policy: bool, all_remotes: bool, remote_url: str | None) -> None:
    """Remove signer NAME from your pins for this zoo's remote (or, with --policy, from trust.yaml)."""
    if all_remotes:
        from zoo_repo.ops.trusting import unpin_everywhere

        pins, where = unpin_everywhere(name)
        click.echo(f"{where}: {_lines(pins) if pins else 'nothing pinned'} for every remote")
        return
    zoo = state.zoo(remote_url)
    if policy:
        left = zoo.remove_signer(name)
        click.echo(f"trust.yaml: {_lines(left) if left else 'removed (no signer left)'}; review and commit it")
        return
    pins, where = zoo.unpin_signer(name)
    click.echo(f"{where}: {_lines(pins) if pins else 'nothing pinned'} for {zoo.remote_url}")


@trust.command(name="list")
@json_option("Print the signers as JSON.")
@remote_option
@pass_state
def trust_list(state: State, as_json: bool, remote_url: str | None) -> None:
    """The signers a pull from this zoo is judged by, and the zoo's own policy."""
    zoo = state.zoo(remote_url)
    needed = zoo.trust_in_force()
    own = zoo.policy() if zoo.is_checkout else None
    if as_json:
        print_json({"pins": [_doc(p) for p in needed], "policy": _doc(own)})
        return
    if not needed:
        click.echo("pulls are judged by: nothing (unverified)")
    for pins in needed:
        click.echo(f"pulls need: {_lines(pins)} ({pins.where})")
    if zoo.is_checkout:
        click.echo(f"trust.yaml: {_lines(own) if own else 'none'}")


def _lines(trust: Any) -> str:
    """``1 approval of alice (sha256:3f2a…), bob (…)``."""
    signers = ", ".join(f"{s.name} ({(s.fingerprint or '?')[:19]}…)" for s in trust.signers)
    return f"{trust.approvals} approval{'s' if trust.approvals > 1 else ''} of {signers}"


def _doc(trust: Any) -> dict[str, Any] | None:
    if trust is None:
        return None
    return {"approvals": trust.approvals, "where": trust.where,
            "signers": [{"name": s.name, "fingerprint": s.fingerprint} for s in trust.signers]}


COMMANDS = (sign, approve, trust)
