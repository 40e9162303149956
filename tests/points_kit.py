"""The small rubric with points and tiers, for the tests of scoring (tests/data/
small_rubric.yaml plus points 0, 2, 5 per level and tiers Bronze 6, Silver 12, Gold 20;
5 indicators, so the maximum is 25)."""

from __future__ import annotations

from pathlib import Path

from workbook_tool.rubric import Rubric, load_rubric

SMALL = Path(__file__).parent / "data" / "small_rubric.yaml"
POINTS = {1: 0, 2: 2, 3: 5}
TIERS = (("Bronze", 6), ("Silver", 12), ("Gold", 20))


def points_yaml(points: dict[int, int] | None = None,
                tiers: tuple[tuple[str, int], ...] | None = TIERS) -> str:
    """The small rubric's text with `points` on its levels and `tiers` at the end."""
    points = POINTS if points is None else points
    lines = []
    for line in SMALL.read_text(encoding="utf-8").splitlines():
        lines.append(line)
        stripped = line.strip()
        if stripped.startswith("- level: ") and len(line) - len(line.lstrip()) == 2:
            level = int(stripped.split(": ")[1])
            if level in points:
                lines.append(f"    points: {points[level]}")
    text = "\n".join(lines) + "\n"
    if tiers:
        text += "tiers:\n" + "".join(f"  - name: {name}\n    min_points: {threshold}\n"
                                     for name, threshold in tiers)
    return text


def points_rubric(folder: Path, **kwargs) -> Rubric:
    path = folder / "points_rubric.yaml"
    path.write_text(points_yaml(**kwargs), encoding="utf-8")
    return load_rubric(path)
