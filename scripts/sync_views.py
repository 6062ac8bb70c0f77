"""Regenerate the sketch section of the model: one Vensim view per sector.

Each ``.Group`` header in the equations section becomes a view listing that sector's
variables (stocks drawn as boxes, everything else as plain variables) on a grid. Run it
after adding or moving equations; equations are never touched.

Usage: ``python scripts/sync_views.py [stocks_flows/ai_labour_nl.mdl]``
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

SKETCH_MARK = "\\\\\\---///"
FONT = "$192-192-192,0,Times New Roman|12||0-0-0|0-0-0|0-0-255|-1--1--1|-1--1--1|96,96,100,0"


def sector_views(equations: str) -> dict[str, list[tuple[str, bool]]]:
    """Map each group (sector) to its (variable name, is_stock) entries in file order."""
    group = None
    views: dict[str, list[tuple[str, bool]]] = {}
    for entry in equations.split("|"):
        header = re.search(r"\*{10,}\s*\.([^\n]+?)\s*\n\s*\*{10,}", entry)
        if header:
            group = header.group(1).strip()
            continue
        text = entry.replace("{UTF-8}", "").strip()
        if not text or group in (None, "Control"):
            continue
        name = re.sub(r"\[.*", "", re.split(r"[=:(~]", text, maxsplit=1)[0]).strip()
        views.setdefault(group, []).append((name, "INTEG" in text.split("~")[0]))
    return views


def sketch(views: dict[str, list[tuple[str, bool]]]) -> str:
    lines = [SKETCH_MARK + " Sketch information - do not modify anything except names"]
    lines.append("V300  Do not put anything below this section - it will be ignored")
    for group, names in views.items():
        lines += [f"*{group}", FONT]
        for i, (name, stock) in enumerate(names, 1):
            x, y = 150 + (i - 1) % 5 * 260, 60 + (i - 1) // 5 * 80
            label = f'"{name}"' if "," in name else name
            shape = "60,30,3" if stock else "60,20,8"
            lines.append(f"10,{i},{label},{x},{y},{shape},3,0,0,0,0,0,0")
    lines += ["///---\\\\\\", ":L<%^E!@", ""]
    return "\n".join(lines)


def main(path: str = "stocks_flows/ai_labour_nl.mdl") -> None:
    mdl = Path(path)
    equations = mdl.read_text(encoding="utf-8").split(SKETCH_MARK, 1)[0]
    views = sector_views(equations)
    mdl.write_text(equations + sketch(views), encoding="utf-8")
    for group, names in views.items():
        print(f"{group}: {len(names)} variables")


if __name__ == "__main__":
    main(*sys.argv[1:])
