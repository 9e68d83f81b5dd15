"""Size, CPU time and peak memory of rendering one PDF code sheet, per script of the user's name.

Run: ``.venv/bin/python benchmarks/sheet_fonts.py``. Each name renders in a fresh process (so the peak
RSS is that of a worker's first sheet, font loading included), after importing the bridge app as a
``serve`` worker does. Goals: a sheet under 200 KB, a worker within 150 MB.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NAMES = {
    "Latin": "Zoë Ångström",
    "Arabic": "محمد الأحمد",
    "Thai": "สมชาย ใจดี",
    "Japanese": "山田太郎",
    "Korean": "김민준",
    "CJK + Arabic + Thai": "山田太郎 محمد สมชาย 김민준 張偉",
}
ONE_SHEET = """
import resource, sys, time
from datetime import UTC, datetime
import bridge.http.app
from bridge.sheet import CodeSheet, render_pdf
codes = [f"{n:02d}AB-CDEF-GHJK-MN{n:02d}" for n in range(1, 11)]
started = time.process_time()
pdf = render_pdf(CodeSheet(codes, sys.argv[1], "Acme SSO", "Acme Corp", datetime.now(UTC)))
cpu_ms = (time.process_time() - started) * 1000
print(len(pdf), round(cpu_ms), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    print(f"{'name':<22}{'sheet KB':>10}{'CPU ms':>9}{'peak RSS MB':>13}")
    for label, name in NAMES.items():
        out = subprocess.run(
            [sys.executable, "-c", ONE_SHEET, name], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.split()
        size, cpu_ms, rss_mb = (int(value) for value in out)
        print(f"{label:<22}{size / 1024:>10.1f}{cpu_ms:>9}{rss_mb:>13}")


if __name__ == "__main__":
    main()
