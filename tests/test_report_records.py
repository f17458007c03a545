"""grading/report/records.py: what the class report remembers between runs.

Each run of the grading command grades some of the class (a resubmission,
late work, one student again); the report covers the whole class, so the
store keeps every student's last record and merges each run into it.
"""

import json

from grading.report.records import (
    HISTORY,
    load_changes,
    load_store,
    merge_run,
    report_folder,
    save_changes,
    save_store,
)


def refusal(name, reason):
    return {"student_or_file": name, "reason": reason}


def test_before_the_first_run_the_store_is_empty(tmp_path):
    store = load_store(tmp_path, "initialization")
    assert store["students"] == {} and store["refusals"] == [] and store["updated"] is None
    assert load_changes(tmp_path, "initialization") is None


def test_a_run_replaces_only_the_records_of_the_students_it_graded(tmp_path):
    store = merge_run(
        load_store(tmp_path, "initialization"),
        {"bo": {"total": 5}, "ada": {"total": 10}},
        [
            refusal("cy", "a link in the folder"),
            refusal("notes.txt", "not a notebook"),
            refusal("eve", "a link"),
        ],
        roster=["cy", "bo", "ada"],
        in_other_edition=[],
    )
    save_store(tmp_path, store)

    # bo hands in again, cy's folder is fixed, and a new download has a bad file.
    again = merge_run(
        load_store(tmp_path, "initialization"),
        {"bo": {"total": 8}, "cy": {"total": 7}},
        [refusal("notes.txt", "still not a notebook"), refusal("x.zip", "a zip in the zip")],
        roster=["dee", "cy", "bo", "ada"],
        in_other_edition=["dee"],
    )

    assert again["students"] == {"ada": {"total": 10}, "bo": {"total": 8}, "cy": {"total": 7}}
    assert list(again["students"]) == ["ada", "bo", "cy"]  # sorted, as the page lists them
    # cy is graded now, so no longer refused; the file's refusal is this
    # run's; eve's, whom this run did not see, stays.
    assert again["refusals"] == [
        refusal("eve", "a link"),
        refusal("notes.txt", "still not a notebook"),
        refusal("x.zip", "a zip in the zip"),
    ]
    assert again["roster"] == ["ada", "bo", "cy", "dee"] and again["other_edition"] == ["dee"]
    assert again["updated"].endswith(" UTC")


def test_the_store_is_written_whole_and_read_back(tmp_path):
    store = merge_run(load_store(tmp_path, "a1"), {"José": {"total": 1.5}}, [], ["José"], [])
    save_store(tmp_path, store)
    assert load_store(tmp_path, "a1") == store
    assert [path.name for path in report_folder(tmp_path, "a1").iterdir()] == ["students.json"]


def test_the_last_changes_are_kept_and_every_run_is_in_the_history(tmp_path):
    report_folder(tmp_path, "a1").mkdir(parents=True)
    save_changes(tmp_path, "a1", {"changed": [{"student": "bo"}], "unchanged": 0})
    save_changes(tmp_path, "a1", {"changed": [], "unchanged": 1})
    last = load_changes(tmp_path, "a1")
    assert last["changed"] == [] and last["unchanged"] == 1 and last["at"].endswith(" UTC")
    history = (report_folder(tmp_path, "a1") / HISTORY).read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["unchanged"] for line in history] == [0, 1]
