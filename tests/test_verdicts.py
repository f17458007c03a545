"""The trusted grader's verdicts (grading/plugins/verdicts.py) on answer records
(utils/answers.py), without a kernel: what a forged or malformed record can
and cannot win, and that an honest record gets the visible check's message."""

import json
import sys
from dataclasses import replace

import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_output

from conftest import CHECKS, COURSE_CONFIG
from grading.errors import CourseFault
from grading.plugins import answer_data, verdicts
from grading.plugins.execute import SandboxedExecute
from grading.plugins.verdicts import Replay, check_named, judge, parse_record, read_record, verdict_outputs
from utils import answers
from utils.deep_checks import check_activation_stds, check_initializer_by_method
from utils.deep_utils import forward_propagation
from utils.init_checks import check_he_initializer, check_zeros_initializer

LAYER_LISTS = [([5, 7, 3, 4, 1],), ([1, 3, 1],)]


def he(layers_dims, scale_numerator=2.0):
    np.random.seed(3)
    parameters = {}
    for l in range(1, len(layers_dims)):
        scale = np.sqrt(scale_numerator / layers_dims[l - 1])
        parameters[f"W{l}"] = np.random.randn(layers_dims[l], layers_dims[l - 1]) * scale
        parameters[f"b{l}"] = np.zeros((layers_dims[l], 1))
    return parameters


def record_of(check, function, hidden_calls=LAYER_LISTS):
    """What a kernel displays, through JSON, read back as the grader reads it."""
    return parse_record(json.loads(json.dumps(answers.answer_record(check, function, hidden_calls))))


@pytest.fixture(scope="module")
def reference():
    return record_of(check_he_initializer, he)


def test_an_honest_answer_passes_with_the_visible_checks_output(reference):
    verdict = judge(record_of(check_he_initializer, he), reference, checks=CHECKS)
    assert verdict.passed
    assert "All visible tests passed." in verdict.message and "Hidden tests: passed." in verdict.message
    (output,) = verdict_outputs(verdict)
    assert output.output_type == "stream" and output.name == "stdout"


def zeros(layers_dims):
    return {
        name: np.zeros(shape)
        for l in range(1, len(layers_dims))
        for name, shape in ((f"W{l}", (layers_dims[l], layers_dims[l - 1])), (f"b{l}", (layers_dims[l], 1)))
    }


def test_a_passing_cell_shows_what_the_check_prints_of_the_reference():
    """The check prints every key of its example's answer, which it does not
    test: the student's function, which has seen the hidden inputs by then,
    could write them there. A passing cell shows the reference's lines."""
    calls = []

    def leaking(layers_dims):
        calls.append(layers_dims)
        parameters = zeros(layers_dims)
        if layers_dims == [3, 2, 1] and calls.count([3, 2, 1]) == 2:  # the example the check only prints
            parameters["hidden inputs: [5, 7, 3, 4, 1]"] = np.zeros(1)
        return parameters

    reference = record_of(check_zeros_initializer, zeros)
    verdict = judge(record_of(check_zeros_initializer, leaking), reference, checks=CHECKS)
    assert verdict.passed and "hidden inputs" not in verdict.message
    assert verdict.message == judge(reference, reference, checks=CHECKS).message
    assert "W1 = [[0. 0. 0.]" in verdict.message


def test_a_wrong_answer_gets_the_visible_checks_message(reference):
    verdict = judge(record_of(check_he_initializer, lambda dims: he(dims, 1.0)), reference, checks=CHECKS)
    assert not verdict.passed and verdict.error_name == "AssertionError"
    assert verdict.message.startswith("Scale error: the weights use the Xavier scale")
    (output,) = verdict_outputs(verdict)
    assert output.output_type == "error" and output.traceback == [f"AssertionError: {verdict.message}"]


def test_an_assertion_error_of_the_students_is_not_the_checks_message(reference):
    """A student's function that raises AssertionError (or a subclass) with
    text of its own, say hidden inputs it saw earlier, is judged as raising an
    error: its text is never taken for the visible check's message."""
    leak = type("Leak", (AssertionError,), {})
    for error in (AssertionError, leak):

        def raises(dims, error=error):
            raise error("hidden inputs: [5, 7, 3, 4, 1]")

        verdict = judge(record_of(check_he_initializer, raises), reference, checks=CHECKS)
        assert (verdict.passed, verdict.kind, verdict.mistake) == (False, "error", "raises-error")
        assert verdict.student_message


def test_an_assertion_error_of_the_students_wrapped_by_a_check_is_still_theirs():
    """check_initializer_by_method wraps its sub-checks' AssertionErrors in
    its own ("method 'xavier': ..."): one the student's function raised
    stays the student's, its text withheld from the feedback."""
    from test_deep_checks import by_method

    honest = by_method()

    def raises(layers_dims, method):
        if method == "xavier":
            raise AssertionError("hidden inputs: [5, 7, 3, 4, 1]")
        return honest(layers_dims, method)

    reference = record_of(check_initializer_by_method, honest, hidden_calls=[])
    verdict = judge(record_of(check_initializer_by_method, raises, hidden_calls=[]), reference, checks=CHECKS)
    assert (verdict.passed, verdict.kind, verdict.mistake) == (False, "error", "raises-error")
    assert verdict.student_message


def honest_stds(X, parameters, activation):
    _, cache = forward_propagation(X, parameters, activation)
    return [float(np.std(cache[f"A{l}"])) for l in range(1, len(parameters) // 2)]


def test_a_function_that_changes_its_dict_argument_is_told_so():
    """The replay changes a dict argument as the student's call did, so the
    check sees the change and names it, as it did in the kernel."""

    def stds(X, parameters, activation):
        values = honest_stds(X, parameters, activation)
        parameters["W1"] = parameters["W1"] * 2
        return values

    with pytest.raises(AssertionError, match="changed parameters"):
        check_activation_stds(stds)
    reference = record_of(check_activation_stds, honest_stds, hidden_calls=[])
    verdict = judge(record_of(check_activation_stds, stds, hidden_calls=[]), reference, checks=CHECKS)
    assert (verdict.kind, verdict.mistake) == ("wrong", "changes-input"), verdict
    assert "changed parameters" in verdict.message


def test_values_hard_coded_for_the_visible_inputs_fail_the_hidden_calls(reference):
    copied = {str(dims): he(dims) for dims in ([2, 4, 1], [3, 1, 2], [4, 3, 5, 2])}
    verdict = judge(record_of(check_he_initializer, lambda dims: copied[str(dims)]), reference, checks=CHECKS)
    assert (verdict.passed, verdict.error_name) == (False, "KeyError")
    assert verdict.message.startswith("Hidden test: your function raised KeyError")


def test_hidden_answers_are_compared_without_showing_expected_values(reference):
    def off_in_deep_layers(dims):
        parameters = he(dims)
        if len(dims) > 4:
            parameters["W3"] = parameters["W3"] * 1.001
        return parameters

    verdict = judge(record_of(check_he_initializer, off_in_deep_layers), reference, checks=CHECKS)
    assert not verdict.passed
    assert verdict.message == (
        "Hidden test: the values of W3 differ from the reference solution's "
        "for an input the visible tests do not try"
    )


def test_a_record_that_answers_other_hidden_calls_is_refused(reference):
    claimed = record_of(check_he_initializer, he, hidden_calls=[([2, 1],), ([1, 1],)])
    verdict = judge(claimed, reference, checks=CHECKS)
    assert (verdict.passed, verdict.error_name) == (False, "MissingAnswer")


def test_a_record_missing_visible_answers_is_refused(reference):
    honest = record_of(check_he_initializer, he)
    cut = parse_record(
        json.loads(
            json.dumps(
                {
                    "format": answers.FORMAT,
                    "check": "check_he_initializer",
                    "calls": answers.answer_record(check_he_initializer, he, LAYER_LISTS)["calls"][2:],
                }
            )
        )
    )
    assert judge(honest, reference, checks=CHECKS).passed
    assert judge(cut, reference, checks=CHECKS).error_name == "MissingAnswer"


def test_an_error_class_named_as_a_formula_is_named_error(reference):
    """type() lets a student name a class anything, "=HYPERLINK(...)" too:
    the reason names it Error, so no spreadsheet formula reaches the reports."""
    formula = type('=HYPERLINK("http://x.example")', (Exception,), {})

    def raises_on_hidden_calls(dims):
        if str(dims) in ("[2, 4, 1]", "[3, 1, 2]", "[4, 3, 5, 2]"):
            return he(dims)
        raise formula("no")

    verdict = judge(record_of(check_he_initializer, raises_on_hidden_calls), reference, checks=CHECKS)
    assert (verdict.passed, verdict.error_name) == (False, "Error")
    assert verdict.message.startswith("Hidden test: your function raised Error")


def test_the_reference_names_the_check_not_the_student(reference):
    """A record that names a lenient check is judged by the reference's check."""
    data = answers.answer_record(check_he_initializer, lambda dims: he(dims, 1.0), LAYER_LISTS)
    data["check"] = "check_zeros_initializer"
    assert not judge(parse_record(json.loads(json.dumps(data))), reference, checks=CHECKS).passed


def test_no_record_scores_zero_and_names_the_kernels_error(reference):
    verdict = judge(
        None, reference, ("NameError", "name 'initialize_parameters_he' is not defined"), checks=CHECKS
    )
    assert (verdict.passed, verdict.error_name) == (False, "NameError")
    assert "name 'initialize_parameters_he' is not defined" in verdict.message
    assert judge(None, reference, ("Not an identifier!", "x"), checks=CHECKS).error_name == "Error"
    # A NameError the student's code raised with text of its own: only the grader's words.
    forged = judge(None, reference, ("NameError", "name 'x' is not defined [5, 7, 3, 4, 1]"), checks=CHECKS)
    assert forged.message.startswith("name 'x' is not defined (Grading error")
    assert "[5, 7" not in forged.message
    assert "[5, 7" not in judge(None, reference, ("NameError", "[5, 7, 3, 4, 1]"), checks=CHECKS).message


@pytest.mark.parametrize(
    "value",
    [
        {"kind": "array", "dtype": "|O", "shape": [1], "data": [1]},  # objects
        {"kind": "array", "dtype": "<f8", "shape": [2], "data": [1.0]},  # values do not fit the shape
        {"kind": "array", "dtype": "<f8", "shape": [1], "data": [{"kind": "str", "value": "x"}]},
        {"kind": "number", "type": "object", "value": 1},
        {"kind": "pickle", "data": "gASV"},
        {"kind": "dict", "items": [1, 2]},
        "not a description",
    ],
)
def test_anything_but_plain_data_is_unreadable(value):
    with pytest.raises(answer_data.Unreadable):
        answer_data.decode(value)


def test_a_malformed_record_counts_as_no_record():
    cell = new_code_cell("")
    cell.outputs = [
        new_output("display_data", data={answers.MIME_TYPE: {"format": 1, "calls": [{"hidden": True}]}}),
    ]
    assert read_record(cell) is None
    cell.outputs = [new_output("execute_result", data={"text/plain": "3.0"}, execution_count=1)]
    assert read_record(cell) is None


def test_values_survive_the_round_trip():
    values = [
        np.arange(6, dtype=np.float32).reshape(2, 3),
        np.array([[True, False]]),
        {"W1": np.zeros((2, 1)), "b1": [0.5, np.float64(0.25)]},
        (1, "two", None, 3.5),
        np.float64(0.1),
        float("nan"),
    ]
    for value in values:
        back = answer_data.decode(json.loads(json.dumps(answers.encode(value))))
        assert answer_data.same_value(back, value) or value != value  # nan
        if isinstance(value, np.ndarray):
            assert back.dtype == value.dtype and back.shape == value.shape
    assert type(answer_data.decode(answers.encode(object()))).__name__ == "object"


def test_a_replayed_call_changes_its_arguments_as_the_students_did():
    def pops(layers_dims):
        layers_dims.pop()
        return {}

    record = record_of(check_he_initializer, pops, hidden_calls=[])
    given = [2, 4, 1]
    Replay(record.visible_calls)(given)
    assert given == [2, 4]


def test_the_deep_checks_judge_replayed_answers():
    def empty_dict(layers_dims, method):
        return {}

    record = record_of(check_initializer_by_method, empty_dict, hidden_calls=[])
    verdict = judge(record, record, checks=CHECKS)  # the check decides before any hidden call
    assert verdict.error_name == "AssertionError"
    assert verdict.message.startswith("method 'zeros': Method error: the call returned an empty dict")

    def stds(X, parameters, activation):
        raise NotImplementedError()

    record = record_of(check_activation_stds, stds, hidden_calls=[])
    assert judge(record, record, checks=CHECKS).error_name == "NotAnswered"


@pytest.mark.parametrize(
    "record",
    [
        [1],
        {"format": 1, "check": "check_he_initializer", "calls": [[]]},
        {"format": 1, "calls": [{"hidden": True, "args": [], "args_after": [], "raised": []}]},
        {
            "format": 1,
            "calls": [{"args": [{"kind": "number", "type": "uint8", "value": -1}], "args_after": []}],
        },
        {
            "format": 1,
            "calls": [{"args": [{"kind": "number", "type": "int8", "value": 10**30}], "args_after": []}],
        },
        {"format": 1, "calls": [{"args": [{"kind": "array", "dtype": "<f8", "shape": [1e999], "data": []}]}]},
        {
            "format": 1,
            "calls": [{"args": [{"kind": "array", "dtype": "<f8", "shape": [2**30] * 9000, "data": []}]}],
        },
        {"format": 1, "calls": [{"args": [{"kind": "array", "dtype": "i1,f8", "shape": [1], "data": [1]}]}]},
    ],
)
def test_a_malformed_record_never_stops_the_grader(record, reference):
    cell = new_code_cell("")
    cell.outputs = [new_output("display_data", data={answers.MIME_TYPE: record})]
    assert read_record(cell) is None
    assert judge(read_record(cell), reference, checks=CHECKS).error_name == "MissingAnswer"


@pytest.mark.parametrize("where", ["returned", "args_after"])
def test_numbers_past_float64_in_hidden_answers_fail_closed(reference, where):
    """An integer no float can hold makes the record unreadable (the
    student's 0), never an error of the judge (which would be the course's fault)."""
    data = answers.answer_record(check_he_initializer, he, LAYER_LISTS)
    hidden = [call for call in data["calls"] if call["hidden"]]
    huge = {"kind": "number", "type": "int", "value": 10**400}
    if where == "returned":
        hidden[0]["returned"] = huge
    else:
        hidden[0]["args_after"][0]["items"][0] = huge
    cell = new_code_cell("", outputs=[new_output("display_data", data={answers.MIME_TYPE: data})])
    assert read_record(cell) is None
    verdict = judge(read_record(cell), reference, checks=CHECKS)
    assert not verdict.passed and verdict.kind == "no-answers"


def test_non_finite_answers_get_the_checks_message(reference):
    def nan_weights(layers_dims):
        parameters = he(layers_dims)
        parameters["W1"][0, 0] = np.nan
        return parameters

    verdict = judge(record_of(check_he_initializer, nan_weights), reference, checks=CHECKS)
    assert verdict.error_name == "AssertionError" and "Value error" in verdict.message


def test_a_students_own_error_class_is_replayed_as_its_builtin_base():
    class UnknownMethod(ValueError):
        pass

    def by_method(layers_dims, method):
        raise UnknownMethod(f"unknown method {method!r}")

    (call,) = record_of(lambda f: f([3, 2, 1], "uniform"), by_method, hidden_calls=[]).calls
    with pytest.raises(ValueError, match="unknown method 'uniform'") as raised:
        Replay([call])([3, 2, 1], "uniform")
    assert type(raised.value).__name__ == "UnknownMethod"


def test_hand_in_leaves_numpys_generator_as_it_found_it():
    """The hidden calls run from HIDDEN_SEED (a function that forgets its own
    seed gives other numbers than the reference's), and the cells after
    hand_in see the generator as the student's own run leaves it."""
    drawn = []

    def draws(layers_dims):
        drawn.append(np.random.rand())
        return he(layers_dims)

    np.random.seed(7)
    before = np.random.get_state()[1].copy()
    answers.answer_record(check_he_initializer, draws, LAYER_LISTS)
    np.random.seed(answers.HIDDEN_SEED)
    assert drawn[-1] == np.random.rand()  # the negative control: the hidden call was seeded
    np.random.seed(7)
    answers.answer_record(check_he_initializer, draws, LAYER_LISTS)
    assert (np.random.get_state()[1] == before).all()


def test_a_function_that_exits_is_recorded_as_the_students_error(reference):
    def exits(layers_dims):
        if len(layers_dims) > 3:
            sys.exit(0)
        return he(layers_dims)

    record = parse_record(
        json.loads(json.dumps(answers.answer_record(check_he_initializer, exits, LAYER_LISTS)))
    )
    raised = [call["raised"]["type"] for call in record.calls if "raised" in call]
    assert raised and set(raised) == {"SystemExit"}
    verdict = judge(record, reference, checks=CHECKS)
    assert not verdict.passed and verdict.kind in ("error", "wrong"), verdict


def test_a_failure_of_the_judge_itself_is_not_the_students(reference):
    """A check module the assignment names but that cannot be imported (a
    course bug): judging raises, for the caller's CourseFault, instead of
    returning a verdict that would score 0."""
    record = record_of(check_he_initializer, he)
    with pytest.raises(ModuleNotFoundError):
        judge(record, reference, checks=["utils.no_such_checks"])


def test_an_interrupt_stops_the_cell_and_leaves_the_generator_alone():
    """The grader stops a cell over its time with a KeyboardInterrupt: hand_in
    lets it through (the cell ends, the notebook goes on), numpy's
    generator restored."""

    def stuck(layers_dims):
        np.random.rand()
        raise KeyboardInterrupt

    np.random.seed(7)
    before = np.random.get_state()[1].copy()
    with pytest.raises(KeyboardInterrupt):
        answers.answer_record(check_he_initializer, stuck, LAYER_LISTS)
    assert (np.random.get_state()[1] == before).all()


def test_judging_in_chinese_in_a_thread_changes_nothing_of_the_process(reference, capsys):
    """A Chinese cell is judged in Chinese, in its own thread, while the
    process keeps its language, its stdout and its figures' font: nothing
    is printed where the grader's own output goes, no font is looked for."""
    import dataclasses
    import threading

    from utils import i18n

    chinese = dataclasses.replace(reference, language="zh_CN")
    verdicts = {}

    def judge_both():
        verdicts["right"] = judge(record_of(check_he_initializer, he), chinese, checks=CHECKS)
        verdicts["wrong"] = judge(
            record_of(check_he_initializer, lambda dims: he(dims, 1.0)), chinese, checks=CHECKS
        )

    font_before = i18n._state["figure_font"]
    thread = threading.Thread(target=judge_both)
    thread.start()
    thread.join()
    assert i18n.get_language() == "en" and i18n.tr("All visible tests passed.") == "All visible tests passed."
    assert i18n._state["figure_font"] == font_before  # no CJK font search happened
    assert capsys.readouterr().out == ""  # the check's lines went into the verdict only
    right = verdicts["right"]
    assert right.passed and "所有可见测试均已通过。" in right.message, right
    assert not verdicts["wrong"].passed and not verdicts["wrong"].message.isascii()


def test_judging_leaves_the_graders_random_stream_as_it_was(reference):
    """The checks seed NumPy's global stream as they replay a student's
    calls; the grader's own stream goes on as if they had not run."""
    np.random.seed(12345)
    expected = np.random.random_sample(3)
    np.random.seed(12345)
    record = record_of(check_he_initializer, he)
    np.random.seed(12345)
    assert judge(record, reference, checks=CHECKS).passed
    assert np.array_equal(np.random.random_sample(3), expected)


def test_a_check_module_changed_since_it_was_imported_stops_judging(tmp_path, monkeypatch):
    """A Dask worker outlives the command: once the instructor fixes a check,
    it must not judge with the old one (the course's fault, so the grades
    stand until the workers restart)."""
    monkeypatch.setattr(verdicts, "_check_files", {})
    monkeypatch.syspath_prepend(str(tmp_path))
    module = tmp_path / "changing_checks.py"
    module.write_text("def check_f(f):\n    pass\n")
    assert check_named("check_f", ["changing_checks"])
    module.write_text("def check_f(f):\n    assert f(1) == 2\n")
    with pytest.raises(RuntimeError, match="changing_checks.py has changed since this process imported it"):
        check_named("check_f", ["changing_checks"])
    monkeypatch.delitem(sys.modules, "changing_checks")


def test_a_changed_helper_of_the_checks_stops_judging_too(monkeypatch):
    """utils.deep_checks uses helpers of utils.init_checks: a change there
    counts as a change of the checks."""
    monkeypatch.setattr(verdicts, "_check_files", {})
    assert check_named("check_initializer_by_method", ["utils.deep_checks"])
    assert "utils.init_checks" in verdicts._check_files
    verdicts._check_files["utils.init_checks"] = (0, 0)  # as if the file were edited since
    with pytest.raises(RuntimeError, match="init_checks.py has changed"):
        check_named("check_initializer_by_method", ["utils.deep_checks"])


def test_a_reference_whose_hidden_answers_cannot_be_compared_is_the_courses_fault(reference):
    """An answer over answers.MAX_ITEMS values is only named in the record,
    and equals nothing: a reference with one would fail every student, so
    the grader refuses it before any student is judged."""
    too_large = record_of(check_he_initializer, he, hidden_calls=[([200, 100],)])
    with pytest.raises(CourseFault, match="hidden answers in test_he are too large"):
        SandboxedExecute(config=COURSE_CONFIG).check_the_judge({"test_he": too_large}, "initialization")
    SandboxedExecute(config=COURSE_CONFIG).check_the_judge({"test_he": reference}, "initialization")


def test_a_judged_message_quotes_no_text_the_students_code_chose(reference):
    """In the notebook a check quotes what it found (a key, an error's
    message). Judged, the student's function has seen the hidden tests, and
    the message goes into the feedback: only a key of the expected form is
    quoted, anything else reads as a placeholder."""

    def with_key(name):
        def initialize(dims):
            parameters = he(dims)
            parameters[name] = np.zeros(1)
            return parameters

        return initialize

    leaking = with_key("hidden: [5, 7, 3, 4, 1]")
    with pytest.raises(AssertionError, match=r"unexpected \['hidden: \[5, 7, 3, 4, 1\]'\]"):
        check_he_initializer(leaking)
    verdict = judge(record_of(check_he_initializer, leaking), reference, checks=CHECKS)
    assert not verdict.passed and "unexpected [not shown when graded]" in verdict.message
    assert "[5, 7" not in verdict.message
    named = judge(record_of(check_he_initializer, with_key("W9")), reference, checks=CHECKS)
    assert "unexpected ['W9']" in named.message


def test_a_judged_message_names_no_class_the_students_code_made(reference):
    """A class the student's code made can have any name, hidden inputs
    spelled out in it: judged, a message names only built-in types."""
    leaking = type("hidden_5_7_3_4_1", (), {})
    with pytest.raises(AssertionError, match="not hidden_5_7_3_4_1"):
        check_he_initializer(lambda dims: leaking())
    verdict = judge(record_of(check_he_initializer, lambda dims: leaking()), reference, checks=CHECKS)
    assert "not [not shown when graded]" in verdict.message and "hidden_5" not in verdict.message
    listed = judge(record_of(check_he_initializer, lambda dims: []), reference, checks=CHECKS)
    assert "return a dict of parameters, not list" in listed.message


def test_a_record_without_an_answer_a_check_catches_errors_of_has_no_answers():
    """The unknown-method check catches any error the function raises: a
    record with no answer for that call is "no answers", not a wrong error."""
    from test_deep_checks import by_method

    honest = record_of(check_initializer_by_method, by_method(), hidden_calls=[])
    unanswered = [call for call in honest.calls if "uniform" not in call["key"]]
    assert len(unanswered) < len(honest.calls)
    verdict = judge(replace(honest, calls=tuple(unanswered)), honest, checks=CHECKS)
    assert (verdict.kind, verdict.error_name) == ("no-answers", "MissingAnswer")
