"""How a user's own codes fare when they arrive at once (double submits, two tabs, a retrying client).

Run: ``.venv/bin/python benchmarks/own_codes.py`` (under a minute; a throwaway SQLite database and a
``backup-codes serve --workers 2`` on a free loopback port, production Argon2 cost unless
BACKUP_CODES_ARGON2_* are set).

Two scenes, each printed as counts of first answers:
* own codes: ``--users`` users (10) each send all their ``--per-user`` valid codes (10) at the same
  moment; the ``busy`` ones are retried (after Retry-After) until they are answered otherwise. A user's
  own code must never be ``locked``; ``busy`` is the retryable answer.
* guesses: ``--guesses`` wrong codes (20) at once against one fresh user; how many reached Argon2
  (``invalid``, from the metrics summed over the workers; at most max_failures = 5) and whether the
  user ends locked.
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from verify import Bridge, issue_users, next_ip


def post(bridge: Bridge, user: str, code: str) -> requests.Response:
    return requests.post(
        f"{bridge.url}/v1/realms/bench/users/{user}/codes/verify",
        headers=bridge.headers,
        json={"code": code, "client_ip": next_ip()},
        timeout=120,
    )


def at_once(jobs: list[tuple[str, str]], bridge: Bridge) -> list[tuple[str, str, requests.Response]]:
    barrier = threading.Barrier(len(jobs))
    answers: list[tuple[str, str, requests.Response]] = []
    lock = threading.Lock()

    def run(user: str, code: str) -> None:
        barrier.wait()
        response = post(bridge, user, code)
        with lock:
            answers.append((user, code, response))

    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def own_codes(bridge: Bridge, users: int, per_user: int) -> None:
    issued = issue_users(bridge, users, "owner")
    jobs = [(user, code) for user, codes in issued.items() for code in codes[:per_user]]
    answers = at_once(jobs, bridge)
    first = collections.Counter(response.json()["reason"] for _, _, response in answers)
    retries, pending = 0, [(u, c, r) for u, c, r in answers if r.json()["reason"] == "busy"]
    while pending:
        time.sleep(int(pending[0][2].headers.get("Retry-After", "1")))
        retries += len(pending)
        pending = [(u, c, r) for u, c, _ in pending if (r := post(bridge, u, c)).json()["reason"] == "busy"]
    locked_users = sum(
        requests.get(
            f"{bridge.url}/v1/realms/bench/users/{u}/codes", headers=bridge.headers, timeout=30
        ).json()["lock"]["locked"]
        for u in issued
    )
    remaining = sum(
        requests.get(
            f"{bridge.url}/v1/realms/bench/users/{u}/codes", headers=bridge.headers, timeout=30
        ).json()["remaining"]
        for u in issued
    )
    print(f"own codes: {len(jobs)} valid codes, {per_user} at once per user, {users} users")
    print(f"  first answers      : {dict(sorted(first.items()))}")
    print(f"  busy retries sent  : {retries}")
    print(f"  users left locked  : {locked_users}")
    print(f"  codes left unused  : {remaining - users * (10 - per_user)} (of those sent; 0: all accepted)")


def hashed_wrong_codes(bridge: Bridge) -> float:
    text = requests.get(f"{bridge.url}/metrics", timeout=10).text
    match = re.search(r'backup_codes_verifications_total\{reason="invalid"\} ([0-9.]+)', text)
    return float(match.group(1)) if match else 0.0


def guesses(bridge: Bridge, count: int) -> None:
    issue_users(bridge, 1, "target")
    before = hashed_wrong_codes(bridge)
    answers = at_once([("target-0", f"ZZZZ-ZZZZ-ZZZZ-Z{i:03d}") for i in range(count)], bridge)
    first = collections.Counter(response.json()["reason"] for _, _, response in answers)
    status = requests.get(
        f"{bridge.url}/v1/realms/bench/users/target-0/codes", headers=bridge.headers, timeout=30
    )
    print(f"guesses: {count} wrong codes at once against one fresh user")
    print(f"  answers            : {dict(sorted(first.items()))}")
    print(f"  hashed (invalid)   : {hashed_wrong_codes(bridge) - before:.0f}")
    print(f"  user locked        : {status.json()['lock']['locked']}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=10, help="users sending their codes at once (10)")
    parser.add_argument("--per-user", type=int, default=10, help="codes each user sends at once, 1-10 (10)")
    parser.add_argument("--guesses", type=int, default=20, help="wrong codes at once against one user (20)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-own-codes-") as tmp:
        bridge = Bridge(Path(tmp))
        try:
            own_codes(bridge, args.users, max(1, min(args.per_user, 10)))
            guesses(bridge, args.guesses)
        finally:
            bridge.stop()


if __name__ == "__main__":
    main()
