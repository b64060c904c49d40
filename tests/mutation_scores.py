"""Per-module mutation scores from mutmut's results in mutants/ (`make mutate` prints them).

Score = killed / checked, where a timeout counts as killed and a mutant no test reaches as
survived. Survivors are listed by name, for `mutmut show NAME`; docs/testing.md records the
ones judged equivalent, with the reason.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

KILLED = {1, 3, 36, 37, -24, 24, 152, 255}
NOT_COUNTED = {None, 2, 34}


def scores(root: Path = Path("mutants")) -> list[tuple[str, int, int, list[str]]]:
    rows = []
    for meta in sorted(root.rglob("*.py.meta")):
        results = json.loads(meta.read_text())["exit_code_by_key"]
        checked = {k: v for k, v in results.items() if v not in NOT_COUNTED}
        killed = sum(1 for v in checked.values() if v in KILLED)
        survivors = sorted(k for k, v in checked.items() if v not in KILLED)
        rows.append((str(meta.relative_to(root))[: -len(".meta")], killed, len(checked), survivors))
    return rows


def main() -> int:
    for module, killed, checked, survivors in scores():
        score = 100 * killed / checked if checked else 0.0
        print(f"{module:32} {killed:4}/{checked:<4} {score:5.1f}%")
        for name in survivors:
            print(f"    survived: {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
