"""Run the benchmarks and print their figures: ``python -m bench [name ...]``."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

from bench import batch, ingress, load, photo

BENCHES: dict[str, Callable[[], dict[str, float]]] = {
    "replace-bg-overhead": photo.replace_bg_overhead,
    "describe-payload": photo.describe_payload_pixels,
    "worker-memory": photo.worker_peak_memory,
    "ingress-cold-import": ingress.cold_import,
    "ingress-warm-ack": ingress.warm_ack,
    "load": load.load_test,
    "batch": batch.batch_both,
}


def main(names: list[str]) -> int:
    chosen = names or list(BENCHES)
    unknown = [name for name in chosen if name not in BENCHES]
    if unknown:
        print(f"unknown bench {unknown}; choose from {list(BENCHES)}", file=sys.stderr)
        return 2
    for name in chosen:
        figures = BENCHES[name]()
        print(json.dumps({"bench": name, **{k: round(v, 2) for k, v in figures.items()}}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
