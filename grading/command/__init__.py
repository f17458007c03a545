"""The steps of the grading command (grading/grade.py), in the order one
student's submission meets them:

    intake.py          collecting submissions (folders, zips), refusing links,
                       special files, nested archives and invalid student ids
    course.py          the course root: configuration, folders, gradebook, exports
    pipeline.py        one student: pre-check, autograde, scores, reasons, feedback
    feedback_writer.py feedback one student at a time, one HTML exporter kept
    parallel.py        every student of a class: one after another here, several
                       at once in worker processes, or on Dask
    results.py         what grading gave: StudentResult, ClassGrading (--json)
    reporting.py       progress lines and the summary
"""
