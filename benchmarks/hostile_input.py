"""CPU the bridge spends refusing hostile JSON bodies before it parses them.

Run: ``.venv/bin/python benchmarks/hostile_input.py`` (a few seconds, in process, nothing started).

Every body is at the app's 64 KiB limit and shaped against the pre-parse checks: the nesting-depth count
(``bridge.http.validation.nesting_depth``) and the JSON parse. Prints CPU milliseconds per body (median of
``--rounds``); a refusal should cost about what parsing a normal body costs (well under 10 ms), never
seconds. An unterminated string of escaped quotes took 13.8 s here before the string scan was made to
match from every opening quote.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import time

from bridge.http.validation import MAX_JSON_DEPTH, nesting_depth

LIMIT = 64 * 1024

BODIES: dict[str, bytes] = {
    "unterminated string of escaped quotes": b'"' + b'\\"' * (LIMIT // 2 - 1),
    "many short strings": b"[" + b'"\\"",' * (LIMIT // 5 - 1) + b'""]',
    "unterminated string of brackets": b'"' + b"[" * (LIMIT - 1),
    "arrays nested to the limit": b"[" * (LIMIT // 2) + b"]" * (LIMIT // 2),
    "objects nested to the limit": b'{"a":' * (LIMIT // 6) + b"}" * (LIMIT // 6),
    "a plain body": json.dumps({"code": "7KQ4-M2XP-9DWR-3HZT", "pad": "x" * (LIMIT - 64)}).encode(),
}


def cpu_ms(body: bytes, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        start = time.process_time()
        if nesting_depth(body) <= MAX_JSON_DEPTH:
            with contextlib.suppress(ValueError):
                json.loads(body)
        samples.append((time.process_time() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5, help="rounds per body (median printed)")
    args = parser.parse_args()
    for name, body in BODIES.items():
        print(f"{name:40s} {len(body):6d} bytes  {cpu_ms(body, args.rounds):8.2f} ms CPU")


if __name__ == "__main__":
    main()
