"""After real use of a served bridge, no code and no API key secret is in the database files or the logs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import requests


def spellings(code: str) -> set[str]:
    bare = code.replace("-", "")
    return {code, bare, code.lower(), bare.lower()}


def database_bytes(data_dir: Path) -> bytes:
    files = [p for p in data_dir.iterdir() if p.name.startswith("bridge.db")]  # the file, -wal and -shm
    assert any(p.name == "bridge.db" for p in files)
    return b"".join(p.read_bytes() for p in files)


def test_no_code_or_key_secret_in_database_or_logs(start_bridge: Any) -> None:
    bridge = start_bridge(workers=2, fast_argon2=False)
    secrets: set[str] = {bridge.api_key.rsplit("_", 1)[1]}
    for user in ("alice", "bob"):
        base = f"{bridge.url}/v1/realms/demo/users/{user}/codes"
        codes = requests.post(base, headers=bridge.headers, timeout=60).json()["codes"]
        for code in codes:
            secrets |= spellings(code)
        for attempt in (codes[0], codes[1].replace("-", "").lower(), codes[0], "ZZZZ-ZZZZ-ZZZZ-ZZZZ"):
            requests.post(
                f"{base}/verify",
                headers=bridge.headers,
                json={"code": attempt, "client_ip": "192.0.2.9"},
                timeout=60,
            )
        secrets |= spellings("ZZZZ-ZZZZ-ZZZZ-ZZZZ")
    # A key created with the CLI while the service runs, then used.
    created = subprocess.run(
        [sys.executable, "-m", "bridge.cli", "apikey", "create", "--name", "second"],
        env={**bridge.env_for_cli()},
        capture_output=True,
        text=True,
        check=True,
    )
    second_key = created.stdout.strip().splitlines()[-1]
    secrets.add(second_key.rsplit("_", 1)[1])
    assert (
        requests.get(
            f"{bridge.url}/v1/realms/demo/users/alice/codes",
            headers={"Authorization": f"Bearer {second_key}"},
            timeout=30,
        ).status_code
        == 200
    )
    # A client that mistakenly puts a code where it does not belong.
    requests.get(f"{bridge.url}/v1/realms/demo/users/{codes[2]}/codes", headers=bridge.headers, timeout=30)

    stored = database_bytes(bridge.data_dir)
    logs = bridge.log_text() + created.stderr
    bridge.stop()
    stored += database_bytes(bridge.data_dir)
    leaked_db = sorted(s for s in secrets if s.encode() in stored)
    leaked_logs = sorted(s for s in secrets if s in logs)
    assert leaked_db == []
    assert leaked_logs == []
    assert '"path": "/v1/realms/demo/users/alice/codes/verify"' in logs  # the logs did record the requests
