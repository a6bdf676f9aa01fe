"""Run the benchmarks, print one table of figures against goals, keep it as JSON: ``python -m bench [name ...]``.

Exits 1 when a figure misses its goal.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from bench import batch, catalogue, ingress, load, photo
from bench.report import Row, rows, save, table

BENCHES: dict[str, Callable[[], dict[str, float]]] = {
    "replace-bg-overhead": photo.replace_bg_overhead,
    "describe-payload": photo.describe_payload_pixels,
    "worker-memory": photo.worker_peak_memory,
    "ingress-cold-import": ingress.cold_import,
    "ingress-warm-ack": ingress.warm_ack,
    "load": load.load_test,
    "batch": batch.batch_both,
    "catalogue": catalogue.catalogue_1000,
}


def main(names: list[str]) -> int:
    chosen = names or list(BENCHES)
    unknown = [name for name in chosen if name not in BENCHES]
    if unknown:
        print(f"unknown bench {unknown}; choose from {list(BENCHES)}", file=sys.stderr)
        return 2
    results: list[Row] = []
    for name in chosen:
        print(f"running {name}…", file=sys.stderr, flush=True)
        results += rows(name, BENCHES[name]())
    print(table(results))
    print(f"saved {save(results)}", file=sys.stderr)
    return 0 if all(row.passed is not False for row in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
