"""The code sheet as plain text, for the ``.txt`` download: the PDF's content in the PDF's order."""

from __future__ import annotations

import textwrap

from bridge.sheet.content import STEPS, CodeSheet, check, format_date, printable, sentences


def render_txt(sheet: CodeSheet) -> str:
    """The sheet as plain text (for the ``.txt`` download): same content, same order as the PDF."""
    check(sheet)
    sheet = printable(sheet)
    s = sentences(sheet)
    wrap = textwrap.TextWrapper(width=72, break_long_words=True, break_on_hyphens=False)
    bullet = textwrap.TextWrapper(
        width=72, initial_indent="- ", subsequent_indent="  ", break_on_hyphens=False
    )
    title = wrap.wrap(f"{s['title']} — {sheet.realm_display_name}")
    created = format_date(sheet.created_at, sheet.locale)
    width = len(str(len(sheet.codes)))
    lines = [*title, "=" * max(len(line) for line in title)]
    if sheet.organisation:
        lines.append(sheet.organisation)
    lines += ["", f"{s['account']}: {sheet.username}", f"{s['created']}: {created}", ""]
    lines += [f"[ ] {number:>{width}}.  {code}" for number, code in enumerate(sheet.codes, start=1)]
    lines += ["", s["howto"], "-" * len(s["howto"])]
    lines += [bullet.fill(s[step]) for step in STEPS]
    lines += ["", wrap.fill(f"{s['phishing']} {s['phishing_more']}"), ""]
    return "\n".join(lines) + "\n"
