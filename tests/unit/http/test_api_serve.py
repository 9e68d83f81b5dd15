"""`backup-codes serve`: pre-forked workers behind one socket, metrics summed across them, clean stop."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests


def test_serve_runs_the_requested_number_of_worker_processes(start_bridge: Any) -> None:
    bridge = start_bridge(workers=2)
    assert len(bridge.worker_pids()) == 2


def healthz_count(bridge: Any) -> float:
    text = requests.get(f"{bridge.url}/metrics", timeout=10).text
    match = re.search(
        r'backup_codes_http_requests_total\{method="GET",route="/healthz",status="200"\} ([0-9.]+)', text
    )
    return float(match.group(1)) if match else 0.0


def test_metrics_count_requests_of_every_worker(start_bridge: Any) -> None:
    bridge = start_bridge(workers=2)
    before = healthz_count(bridge)
    for _ in range(20):
        requests.get(f"{bridge.url}/healthz", timeout=10)
    assert healthz_count(bridge) - before == 20


def test_metrics_label_routes_not_user_ids(start_bridge: Any) -> None:
    bridge = start_bridge()
    requests.get(f"{bridge.url}/v1/realms/demo/users/alice/codes", headers=bridge.headers, timeout=10)
    text = requests.get(f"{bridge.url}/metrics", timeout=10).text
    assert 'route="/v1/realms/<realm>/users/<user_id>/codes"' in text
    assert "alice" not in text


def test_stop_ends_every_worker_and_start_serves_again(start_bridge: Any) -> None:
    bridge = start_bridge(workers=2)
    workers = bridge.worker_pids()
    bridge.stop()
    assert not any(Path(f"/proc/{pid}").exists() and _not_zombie(pid) for pid in workers)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{bridge.url}/healthz", timeout=5)
    bridge.start()
    assert requests.get(f"{bridge.url}/readyz", timeout=10).json() == {"status": "ready"}


def test_a_crashed_worker_is_replaced(start_bridge: Any) -> None:
    bridge = start_bridge(workers=2)
    victim = bridge.worker_pids()[0]
    os.kill(victim, 9)
    for _ in range(300):
        pids = bridge.worker_pids()
        if len(pids) == 2 and victim not in pids:
            break
        time.sleep(0.1)
    assert len(bridge.worker_pids()) == 2 and victim not in bridge.worker_pids()
    assert requests.get(f"{bridge.url}/healthz", timeout=10).status_code == 200


def test_serve_refuses_a_database_that_is_not_migrated(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKUP_CODES_")}
    env["BACKUP_CODES_DATABASE_URL"] = f"sqlite:///{tmp_path / 'empty.db'}"
    result = subprocess.run(
        [sys.executable, "-m", "bridge.cli", "serve", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "backup-codes db upgrade" in result.stderr
    assert "Traceback" not in result.stderr


def test_readyz_is_503_on_a_database_that_is_not_migrated(bridge_settings: Any) -> None:
    from bridge.http.app import create_app

    client = create_app(bridge_settings).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "not_ready"


def _not_zombie(pid: int) -> bool:
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def _minor_faults(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[7])


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_a_worker_reuses_its_argon2_memory_instead_of_faulting_it_in_for_each_hash(start_bridge: Any) -> None:
    # Production Argon2 cost (19 MiB, 4 864 pages per evaluation) and two evaluations at once in one
    # worker: glibc's adaptive trimming used to hand the blocks back and fault them in again.
    from concurrent.futures import ThreadPoolExecutor

    bridge = start_bridge(workers=1, fast_argon2=False)
    base = f"{bridge.url}/v1/realms/demo/users"
    work = []
    for user in ("ann", "bob", "di", "ed"):
        codes = requests.post(f"{base}/{user}/codes", headers=bridge.headers, timeout=60).json()["codes"]
        work += [(user, code) for code in codes]
    [worker] = bridge.worker_pids()

    def verify(item: tuple[str, str]) -> bool:
        user, code = item
        body = {"code": code, "client_ip": f"10.0.0.{len(user)}"}  # under the per-IP limit
        response = requests.post(f"{base}/{user}/codes/verify", headers=bridge.headers, json=body, timeout=60)
        return bool(response.json()["valid"])

    before = _minor_faults(worker)
    with ThreadPoolExecutor(2) as pool:
        assert all(pool.map(verify, work))
    assert (_minor_faults(worker) - before) / len(work) < 1000
