"""Regimen probes on a built index: counts per class of probes the dose guardrail answers as it must.

    python evals/regimen_probes.py INDEX_DIR [--top N] [--source FILE ...] [--show-failures N]

Every dose statement of the chosen guidelines (all of them, or the ``--top`` N with the most
dose statements, or the ``--source`` files named) is asked back as written and in two
equivalent wordings (no mismatch allowed) and mutated wrong (x10, course total x2, less
often, another course, another route), each with the risk code the guardrail must give
(``assistant.evaluation.regimen_probes``). Prints one line per class: probes, as expected,
and the share. ``--show-failures`` prints that many failing questions (they quote guideline
text: read them, never commit them).

The issue-21 figures were made with

    python evals/regimen_probes.py /work/main/index
    python evals/regimen_probes.py /work/libidx --top 10
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assistant.errors import CorpusError
from assistant.evaluation.regimen_probes import (
    busiest_sources,
    dose_statements,
    probes_for,
    read_statements,
    run_probe,
    run_through,
    tally,
)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("index", type=Path)
    parser.add_argument("--top", type=int, default=0, help="probe only the N guidelines with the most dose statements")
    parser.add_argument("--source", action="append", default=[], help="probe this guideline (repeatable)")
    parser.add_argument("--show-failures", type=int, default=0, metavar="N")
    parser.add_argument(
        "--chain",
        type=Path,
        metavar="CORPUS",
        help="ask each probe through the whole assistant over this corpus (retrieval chooses the quotes)",
    )
    parser.add_argument("--every", type=int, default=1, metavar="N", help="keep every N-th probe (a sample)")
    parser.add_argument(
        "--dump", type=Path, help="write the probes as JSON lines here (guideline text: keep it outside the repo)"
    )
    args = parser.parse_args(argv)
    try:
        pairs = dose_statements(read_statements(args.index))
    except CorpusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    chosen = set(args.source) or (set(busiest_sources(pairs, args.top)) if args.top else None)
    if chosen is not None:
        pairs = [(quote, dose) for quote, dose in pairs if quote.source in chosen]
    probes = [probe for quote, dose in pairs for probe in probes_for(quote, dose)]
    if args.dump:
        with args.dump.open("w", encoding="utf-8") as out:
            for probe in probes:
                row = {"kind": probe.kind, "question": probe.question, "quote": probe.quote.model_dump(mode="json")}
                out.write(json.dumps(row | {"expected": probe.expected.value if probe.expected else None}) + "\n")
    probes = probes[:: max(args.every, 1)]
    if args.chain is not None:
        from assistant import Assistant

        assistant = Assistant.load(args.chain, args.index)
        outcomes = [run_through(assistant.ask, probe) for probe in probes]
    else:
        outcomes = [run_probe(probe) for probe in probes]
    sources = sorted({quote.source for quote, _ in pairs})
    print(f"{len(sources)} guideline(s), {len(pairs)} dose statement(s), {len(outcomes)} probe(s)")
    total = ok = 0
    for kind, (count, right) in tally(outcomes).items():
        total, ok = total + count, ok + right
        print(f"  {kind:<11} {right:>5} / {count:<5} as expected ({right / count:.1%})")
    print(f"  {'all':<11} {ok:>5} / {total:<5} as expected ({ok / max(total, 1):.1%})")
    failures = [outcome for outcome in outcomes if not outcome.ok][: args.show_failures]
    for outcome in failures:
        expected = outcome.probe.expected.value if outcome.probe.expected else "no mismatch"
        got = ", ".join(risk.value if risk else "none" for risk in outcome.risks) or "no mismatch"
        print(f"FAIL {outcome.probe.kind}: {outcome.probe.question!r} expected {expected}, got {got}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
