"""The svgbob diagrams of the pages (```bob listings), whose ASCII art svgbob draws as it stands."""

from __future__ import annotations


# svgbob's strokes: a horizontal line, a vertical one, a junction, the corners of a rounded box.
HORIZONTAL, VERTICAL, JUNCTION = "-", "|", "+"


LINE_END = set("+*<>v^|.'")


def diagram_problems(body: list[str]) -> list[tuple[int, str]]:
    """A lint of an svgbob diagram's ASCII art, whose lines svgbob draws as they stand: a box
    with a missing corner or a side that does not meet renders as loose lines, silently.

    - every corner (`.` or `'` touching a stroke) joins a horizontal stroke (a `-` or `+` on its
      left or right) and a vertical one (a `|` or `+` below a `.`, above a `'`);
    - a stroke (a run of `-`, or of `|`) that starts at a corner ends at a corner, a junction
      `+`, an arrow head or a `*`: it does not stop in the air.
    Text in double quotes is svgbob's text and is left out; so are lone `-` (dashed lines)."""
    grid = []
    for line in body:
        # Quoted text is text, not strokes.
        cells, quoted = [], False
        for ch in line:
            if ch == '"':
                quoted = not quoted
                cells.append(" ")
            else:
                cells.append(" " if quoted else ch)
        grid.append(cells)

    def at(r: int, c: int) -> str:
        return grid[r][c] if 0 <= r < len(grid) and 0 <= c < len(grid[r]) else " "

    problems: list[tuple[int, str]] = []
    for r, row in enumerate(grid):
        for c, ch in enumerate(row):
            if ch not in ".'":
                continue
            side = at(r, c - 1) in HORIZONTAL + JUNCTION or at(r, c + 1) in HORIZONTAL + JUNCTION
            vr = r + 1 if ch == "." else r - 1
            upright = at(vr, c) in VERTICAL + JUNCTION
            if not (side or upright):
                continue  # a full stop or an apostrophe in the text
            if at(r, c - 1) not in HORIZONTAL and at(r, c + 1) not in HORIZONTAL and not upright:
                continue  # a `.` or `'` beside a junction, e.g. text after a `+`
            if not side:
                problems.append((r, f"the corner `{ch}` in column {c + 1} joins no horizontal "
                                    "stroke: its box's top or bottom does not meet it"))
            elif not upright:
                problems.append((r, f"the corner `{ch}` in column {c + 1} joins no vertical stroke "
                                    f"{'below' if ch == '.' else 'above'} it: its box's side does "
                                    "not meet it"))
    # Strokes that start at a corner and end in the air.
    for r, row in enumerate(grid):
        c = 0
        while c < len(row):
            if row[c] != HORIZONTAL:
                c += 1
                continue
            start = c
            while c < len(row) and row[c] in HORIZONTAL + JUNCTION:
                c += 1
            if c - start < 2:
                continue
            ends = (at(r, start - 1), at(r, c))
            if any(e in ".'" for e in ends) and any(e not in LINE_END for e in ends):
                problems.append((r, f"the line from column {start + 1} to {c} leaves a corner and "
                                    "ends in the air: a corner is missing at its other end"))
    width = max((len(row) for row in grid), default=0)
    for c in range(width):
        r = 0
        while r < len(grid):
            if at(r, c) not in VERTICAL + JUNCTION:
                r += 1
                continue
            start = r  # a vertical stroke, through junctions: at least one `|`
            while r < len(grid) and at(r, c) in VERTICAL + JUNCTION:
                r += 1
            if VERTICAL not in (at(k, c) for k in range(start, r)):
                continue
            # A stroke that starts or stops at a junction ends there, unless a corner is beyond it.
            top, bottom = at(start - 1, c), at(r, c)
            if at(start, c) == JUNCTION and top != ".":
                top = JUNCTION
            if at(r - 1, c) == JUNCTION and bottom != "'":
                bottom = JUNCTION
            ends = (top, bottom)
            corner = ends[0] == "." or ends[1] == "'"
            if corner and any(e not in LINE_END for e in ends):
                problems.append((start, f"the side in column {c + 1} leaves a corner and ends in "
                                        "the air: it does not meet the box's other corner"))
    return sorted(set(problems))
