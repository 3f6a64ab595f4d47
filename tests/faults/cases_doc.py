"""Rewrite the "Every case" section of docs/reliability.md from a JUnit XML report of the fault suite:

    python -m pytest tests/faults -p no:cacheprovider --junitxml=/tmp/faults.xml
    python -m tests.faults.cases_doc /tmp/faults.xml [more.xml ...]

One line per collected case with its outcome (passed / skipped with the reason / failed), so the document
lists exactly what the suite ran.
"""
from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
START, END = "<!-- cases:start -->", "<!-- cases:end -->"


def outcomes(xml_path: str) -> list[tuple[str, str]]:
    out = []
    for case in ET.parse(xml_path).getroot().iter("testcase"):
        name = f"{case.get('classname', '').split('.')[-1]}.py::{case.get('name')}"
        skipped = case.find("skipped")
        failed = case.find("failure") if case.find("failure") is not None else case.find("error")
        if failed is not None:
            outcome = "FAILED"
        elif skipped is not None:
            outcome = "skipped: " + (skipped.get("message") or "").replace("|", "/")[:100]
        else:
            outcome = "passed"
        out.append((name, outcome))
    return out


def collected() -> list[str]:
    import subprocess

    res = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                          "tests/faults"], cwd=DOC.parents[1], capture_output=True, text=True)
    return [line.split("tests/faults/", 1)[1] for line in res.stdout.splitlines() if "::" in line]


def main(*xml_paths: str) -> None:
    merged: dict[str, str] = {name: "not run in the last pass" for name in collected()}
    for path in xml_paths:  # several partial reports: a later report's outcome wins
        merged.update((n, o) for n, o in outcomes(path) if n in merged)  # cases no longer collected: left out
    cases = sorted(merged.items())
    tally = Counter(o.split(":")[0] for _, o in cases)
    lines = [START, "", f"`python -m pytest tests/faults`: {len(cases)} cases — "
             + ", ".join(f"{n} {k}" for k, n in sorted(tally.items())) + ".", "", "| case | outcome |", "|---|---|"]
    lines += [f"| `{n}` | {o} |" for n, o in cases] + ["", END]
    text = DOC.read_text()
    block = "\n".join(lines)
    if START in text:
        text = text[:text.index(START)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + "\n\n## Every case\n\n" + block + "\n"
    DOC.write_text(text)


if __name__ == "__main__":
    main(*sys.argv[1:])
