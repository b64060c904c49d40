"""The deploy guide and the runbook run with the project's tools and Zappa: no AWS CLI, every
`python -m deploy` command as documented is one the tool accepts, every `zappa update` ships the
built package."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from deploy.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "docs" / "deploy.md", ROOT / "docs" / "runbook.md"]


def commands(doc: Path) -> list[str]:
    """Every command line of the doc's sh blocks, continuation lines joined, comments cut."""
    blocks = re.findall(r"```sh\n(.*?)```", doc.read_text(), flags=re.S)
    lines = []
    for block in blocks:
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line and not line.startswith("#"):
                lines.extend(part.strip() for part in line.split("&&"))
    return lines


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_every_command_is_the_projects_or_zappas(doc):
    found = commands(doc)
    assert found
    allowed = (
        "make ",
        ".venv/bin/python ",
        "VOJ_SMOKE_",
        "source ",
        "deactivate",
        "zappa ",
        "git ",
        "rm ",
    )
    assert [c for c in found if not c.startswith(allowed)] == []
    parser = build_parser()
    for command in found:
        if "-m deploy " in command:
            words = shlex.split(command.split("-m deploy ", 1)[1])
            parser.parse_args(words)  # exits (fails the test) on anything the tool refuses


@pytest.mark.parametrize("doc", [*DOCS, ROOT / "README.md"], ids=lambda d: d.name)
def test_zappa_update_always_ships_the_built_package(doc):
    text = doc.read_text()
    updates = re.findall(r"zappa update \w+[^`\n]*", text)
    assert all("--zip dist/voj-" in u for u in updates), updates
    assert "every tool here is idempotent" not in text.lower()


def test_every_alarm_has_a_runbook_entry():
    """Each alarm of the monitoring templates is a row of the runbook's alarm table that says
    what it means and what to do."""
    names = [
        re.sub(r"\$\{Stage\}", "prod", name)
        for template in ("monitoring.yaml", "cdn-alarms.yaml")
        for name in re.findall(
            r'AlarmName: !Sub "([^"]+)"', (ROOT / "deploy" / template).read_text()
        )
    ]
    assert len(names) >= 16
    runbook = (ROOT / "docs" / "runbook.md").read_text()
    section = runbook.split("## Alarms: what they mean and what to do", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `voj-")]
    for name in names:
        row = [r for r in rows if f"`{name}`" in r.split(" | ")[0]]
        assert len(row) == 1, f"{name}: no row in docs/runbook.md's alarm table"
        cells = [cell.strip() for cell in row[0].strip("|").split(" | ")]
        assert len(cells) == 3 and all(len(cell) > 10 for cell in cells[1:]), row
