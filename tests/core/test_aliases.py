"""aliases.yaml round-trips every alias name check_alias_name accepts, YAML's special words included."""

from __future__ import annotations

import random
import string

import pytest

from zoo_repo.core.aliases import check_alias_name, parse_aliases, render_aliases
from zoo_repo.errors import UsageError

# Every lowercase word YAML 1.1 resolves to a bool or null, the near misses
# that must stay plain, and names shaped like other scalars.
YAML_WORDS = ["yes", "no", "on", "off", "true", "false", "null", "y", "n", "nan", "inf", "e3", "x1e3",
              "o0x10", "nul", "yes-", "on.off", "true_", "null.", "a", "z" * 63, "b.c-d_e", "stable"]


def _random_names(count: int) -> list[str]:
    """Seeded, so a failure names the same inputs on every run."""
    rng = random.Random(20261128)
    tail = string.ascii_lowercase + string.digits + "_.-"
    names: set[str] = set()
    while len(names) < count:
        name = rng.choice(string.ascii_lowercase) + "".join(rng.choices(tail, k=rng.randrange(0, 63)))
        try:
            names.add(check_alias_name(name))
        except UsageError:  # vN or sha256… shapes: not names an alias may have
            continue
    return sorted(names)


@pytest.mark.parametrize("name", YAML_WORDS)
def test_each_name_round_trips(name: str) -> None:
    aliases = {check_alias_name(name): 3}
    assert parse_aliases(render_aliases("cv/x", aliases)) == aliases


def test_many_names_round_trip_together() -> None:
    aliases = {name: i + 1 for i, name in enumerate(YAML_WORDS + _random_names(300))}
    text = render_aliases("cv/x", aliases)
    assert parse_aliases(text) == aliases
    assert len(text.splitlines()) == 1 + len(aliases)  # still one line per alias, for reviewable diffs
