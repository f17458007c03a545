"""How many students the class report counts, and how: the page's first line.

Every student with a record is in the charts and tables; one whose last grading was refused or failed
counts with 0, or with the grade an earlier run gave (the gradebook keeps it). Files and folders
refused at intake name no student: no record, in no chart.
"""

from __future__ import annotations

from grading.reasons import Why


def class_counts(students, stores) -> dict:
    """{"records", "graded", "not_graded", "as_zero", "earlier_grade", "refused_at_intake"} of
    report_data's students ((label, edition, record, StudentResult) each) and their stores."""
    not_graded = [result for _, _, _, result in students if not result.graded]
    earlier = [result for result in not_graded if result.has(Why.EARLIER_GRADE)]
    return {
        "records": len(students),
        "graded": len(students) - len(not_graded),
        "not_graded": len(not_graded),
        "as_zero": len(not_graded) - len(earlier),
        "earlier_grade": len(earlier),
        "refused_at_intake": sum(len(store.get("refusals", [])) for store in stores),
    }


def headline(counts: dict) -> str:
    """ "36 graded, 1 refused or not graded (counted as 0 in the charts)", and
    the files refused at intake, if any."""
    text = f"{counts['graded']} graded"
    missing = counts["not_graded"]
    if missing:
        how = []
        if counts["as_zero"]:
            how.append(f"{_counted(counts['as_zero'], missing)} as 0 in the charts")
        if counts["earlier_grade"]:
            how.append(
                f"{_counted(counts['earlier_grade'], missing)} with the grade an earlier run gave, "
                "which the gradebook keeps"
            )
        text += f", {missing} refused or not graded ({'; '.join(how)})"
    refused = counts["refused_at_intake"]
    if refused:
        text += (
            f"; {refused} more {'file or folder' if refused == 1 else 'files or folders'} "
            "refused at intake, naming no student (in no chart)"
        )
    return text


def _counted(part: int, whole: int) -> str:
    return "counted" if part == whole else f"{part} counted"
