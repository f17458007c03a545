"""How long each cell of a submission may run: its budget.

A cell may take `factor` times what the same cell of the instructor's source took (the reference,
measured in the same sandbox when grading starts), never less than `floor` seconds (room on a busy
machine). Cells match by grade id when they have one (nbgrader restores it; the student's file
decides the cell id), else by cell id. Cells with no reference time get `fallback`, the course's
per-cell timeout. `scale` multiplies every budget: below 1 it stands for a machine that much slower.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CellBudgets:
    """Seconds each cell may run, looked up by the cell's id."""

    fallback: float  # for cells the reference has no time for
    factor: float = 10.0
    floor: float = 5.0
    scale: float = 1.0
    reference: dict[str, float] = field(default_factory=dict)  # cell key -> seconds it took

    def seconds(self, cell) -> float:
        took = self.reference.get(cell_key(cell))
        budget = self.fallback if took is None else max(self.floor, self.factor * took)
        return budget * self.scale

    def notebook_seconds(self) -> float:
        """The whole notebook's budget: the timed cells' budgets summed (infinite when none was timed).
        Cells a student added share it: they cannot stretch it."""
        if not self.reference:
            return float("inf")
        return sum(max(self.floor, self.factor * took) for took in self.reference.values()) * self.scale


def cell_key(cell) -> str | None:
    """What a cell's time is kept under: its grade id, else its cell id."""
    grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    return f"grade:{grade_id}" if grade_id else cell.get("id")
