"""s3_bench's CPU table: where each push's and pull's time goes, tool and server.

The tool and the SeaweedFS server share the machine's cores, so no schedule
can finish a step in less than (tool CPU + server CPU) / cores: that floor
tells a step bound by CPU (wall close to it) from one waiting on the wire or
the disk (wall far above it), and what a tool that asks more of the server
(a second copy, more requests) pays for it.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Sequence
from typing import Any

import peers
from benchfmt import fmt_num, ratio, table

ROWS = {
    "push": [("zoo publish", "zoo"), ("dvc push", "dvc"), ("s3fs put", "s3fs"), *peers.PUSH_ROWS,
             ("curl PUT (big file only)", "curl")],
    "pull": [("zoo pull", "zoo"), ("zoo pull --link hardlink", "zoo-hardlink"), ("dvc pull", "dvc"),
             ("s3fs get", "s3fs"), *peers.PULL_ROWS, ("curl GET (big file only)", "curl")],
}


def cpu_table(bench: Any, datasets: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    cores = os.cpu_count() or 1
    rows: list[list[str]] = []
    data: dict[str, Any] = {"cores": cores}
    for case, steps in ROWS.items():
        for ds in datasets:
            for label, tool in steps:
                key = f"{case}/{ds.name}/{tool}"
                runs = [s for s in bench.samples.get(key, []) if s.ok]
                if not runs:
                    continue
                wall = statistics.median([s.seconds for s in runs])
                mine = statistics.median([s.cpu_s for s in runs])
                server = statistics.median([s.server_cpu_s for s in runs])
                floor = (mine + server) / cores
                rows.append([case, ds.label, label, fmt_num(wall, ".2f"), fmt_num(mine, ".2f"),
                             fmt_num(server, ".2f"), fmt_num(floor, ".2f"), fmt_num(ratio(wall, floor), ".2f")])
                data[key] = {"wall_s": wall, "cpu_s": mine, "server_cpu_s": server, "floor_s": floor}
    text = (f"## 5b. CPU (seconds, median): the tool's and the server's, on {cores} shared cores\n\n"
            "\"tool\" is user + system time of the process and the children it waited for; \"server\" is "
            "SeaweedFS's over the same step. \"floor\" = (tool + server) / cores: no schedule finishes "
            "sooner. \"wall / floor\" near 1 means the step is bound by CPU, not by the wire or the disk.\n\n"
            + table(["case", "data", "tool", "wall s", "tool CPU s", "server CPU s", "floor s", "wall / floor"],
                    rows))
    return text, data
