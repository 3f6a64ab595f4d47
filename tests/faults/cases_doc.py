"""Rewrite the "Every case" section of docs/reliability.md from a JUnit XML report of the fault suite:

    python -m pytest tests/faults -p no:cacheprovider --junitxml=/tmp/faults.xml
    python -m tests.faults.cases_doc /tmp/faults.xml

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
        skipped, failed = case.find("skipped"), case.find("failure") or case.find("error")
        if failed is not None:
            outcome = "FAILED"
        elif skipped is not None:
            outcome = "skipped: " + (skipped.get("message") or "").replace("|", "/")[:100]
        else:
            outcome = "passed"
        out.append((name, outcome))
    return out


def main(xml_path: str) -> None:
    cases = outcomes(xml_path)
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
    main(sys.argv[1])
