"""Every `backup-codes …` command the README and docs/ show exists, with the options they show.

The commands that need nothing but the database are also run, in the order an operator would, against
a throwaway SQLite database; `realm …` runs against a real Keycloak in
tests/integration/test_realm_install.py, `serve` in tests/unit/http/test_api_serve.py, `ldap-sync` against
slapd in tests/integration/test_ldap_*.py.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bridge.cli import main

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FENCE = re.compile(r"```[a-z]*\n(.*?)```", re.DOTALL)
OPTION = re.compile(r"--[a-z][a-z0-9-]*")


def documented_lines() -> list[tuple[str, str]]:
    """(file name, command line) for each `backup-codes` line inside a fenced code block."""
    found = []
    for doc in DOCS:
        for block in FENCE.findall(doc.read_text(encoding="utf-8")):
            for line in block.splitlines():
                line = line.strip().removeprefix("$ ").removeprefix("sudo ")
                if line.startswith("backup-codes "):
                    found.append((doc.name, line.split("  #")[0].strip()))
    return found


def command_paths(line: str) -> list[tuple[list[str], list[str]]]:
    """Expand `a|b` and `list | revoke ID` into each command path, with the options shown for it."""
    words = shlex.split(line.replace("…", "x"))[1:]
    options = sorted(set(OPTION.findall(" ".join(words))))
    if len(words) < 2 or words[1].startswith(("-", "[")):
        return [([words[0]], options)]
    subcommands = words[1].split("|")
    if len(words) > 3 and words[2] == "|":
        subcommands.append(words[3])
    return [([words[0], sub], options) for sub in subcommands]


DOCUMENTED = [
    pytest.param(path, options, id=f"{name}: {' '.join(path)}")
    for name, line in documented_lines()
    for path, options in command_paths(line)
]


def test_the_docs_show_the_cli() -> None:
    assert len(DOCUMENTED) >= 15


@pytest.mark.parametrize(("path", "options"), DOCUMENTED)
def test_documented_command_exists_with_its_options(
    path: list[str], options: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*path, "--help"])
    assert exit_info.value.code == 0
    help_text = capsys.readouterr().out
    missing = [option for option in options if option not in help_text]
    assert not missing, f"`backup-codes {' '.join(path)}` has no {missing}"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BACKUP_CODES_DATABASE_URL", f"sqlite:///{tmp_path / 'docs.db'}")
    monkeypatch.setenv("BACKUP_CODES_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BACKUP_CODES_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("BACKUP_CODES_ARGON2_MEMORY_COST", "1024")
    return tmp_path


def run(argv: str, capsys: pytest.CaptureFixture[str]) -> str:
    status = main(shlex.split(argv))
    out = capsys.readouterr().out
    assert status == 0, f"backup-codes {argv} exited {status}"
    return out


def test_documented_operator_session_runs(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run("db upgrade", capsys)
    run("db current", capsys)
    key = run("apikey create --name keycloak-prod-2026-12", capsys).strip().splitlines()[-1]
    listing = run("apikey list", capsys)
    key_id = key.split("_")[1]
    assert key_id in listing and key not in listing
    run(f"apikey revoke {key_id}", capsys)
    run("policy show --realm example", capsys)
    run("policy set --realm example low_threshold=2", capsys)
    run("user status --realm example --user alice", capsys)
    run('user reset --realm example --user alice --reason "lost codes" --identity-check "video call"', capsys)
    exported = run("audit export --realm example --format jsonl", capsys)
    assert "helpdesk_reset" in exported and "policy_changed" in exported


# ------------------------------------------------------------------------------------------ benchmarks

BENCHMARKS = sorted(path.name for path in (REPO / "benchmarks").glob("*.py") if not path.name.startswith("_"))
BENCHMARK_COMMAND = re.compile(
    r"(?:\.venv/bin/)?python3? (?:benchmarks/[a-z_]+\.py|-m benchmarks\.[a-z_]+)[^`\n#]*"
)


def benchmark_commands() -> list[tuple[str, str]]:
    """(where, command) for each benchmark run the README, docs/ and the benchmarks' own docstrings show."""
    sources = [*DOCS, *((REPO / "benchmarks" / name) for name in BENCHMARKS)]
    found = {}
    for source in sources:
        for command in BENCHMARK_COMMAND.findall(source.read_text(encoding="utf-8")):
            found.setdefault(command.strip(), source.name)
    return [(where, command) for command, where in found.items()]


def test_the_readme_shows_how_to_run_every_benchmark() -> None:
    readme = [command for where, command in benchmark_commands() if where == "README.md"]
    assert {name for name in BENCHMARKS if not any(f"benchmarks/{name}" in c for c in readme)} == set()


@pytest.mark.parametrize(("where", "command"), benchmark_commands(), ids=lambda value: value)
def test_documented_benchmark_command_runs_from_the_repository_root(where: str, command: str) -> None:
    """Run exactly as written (optional parts in brackets left out) with --help, the way a fresh clone would:
    from the repository root, nothing on PYTHONPATH, the bootstrapped venv's interpreter."""
    words = shlex.split(re.sub(r"\[[^\]]*\]", "", command.replace("...", "x")))
    venv_python = REPO / ".venv" / "bin" / "python"
    words[0] = str(venv_python if venv_python.exists() else sys.executable)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("BACKUP_CODES_")}
    # Its own session: a benchmark that ignores --help runs for minutes; stop it with its process group.
    with subprocess.Popen(
        [*words, "--help"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGTERM)
            process.communicate()
            pytest.fail(f"{where}: `{command} --help` ran for a minute instead of printing its help")
    assert process.returncode == 0, f"{where}: `{command} --help` failed:\n{stderr[-2000:]}"
    assert stdout.startswith("usage:")
