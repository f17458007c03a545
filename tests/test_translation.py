"""The Chinese edition is the English course in other words: built from the
English source and the gettext catalogs, complete, and running the same code.

When an English text changes, the catalogs no longer hold it and these tests
fail until `scripts/translate.py update`, a translation, and
`scripts/translate.py build` bring the edition back in step."""

import io
import re
import tokenize
import warnings
from collections import Counter

import matplotlib
import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest
from babel.messages.mofile import read_mo

from conftest import REPO, decided_by_visible_checks, printed_by_notebook
from examples import example_class, example_class_deep
from examples.students import fill_in
from grading.configuration import delimiters
from grading.plugins.execute import is_graded_test
from translation import catalogs, quality
from translation.editions import (
    CHINESE_LANGUAGE_CALL,
    EDITIONS,
    LANGUAGE_CALL,
    RUNTIME_CATALOG,
    all_templates,
    chinese_notebook,
    helper_figure_text,
    notebook_catalog,
    without_outputs,
)
from translation.notebook_text import code_spans, masked_source, translate_code
from utils import i18n
from utils.init_checks import check_he_initializer, check_zeros_initializer
from utils.init_utils import METHOD_NAMES, plot_costs

TEMPLATES = all_templates()
CATALOG_IDS = [str(path.relative_to(REPO)) for path, _ in TEMPLATES]
CJK = re.compile(r"[\u4e00-\u9fff]")
UPDATE = (
    "run `python scripts/translate.py update`, translate what it lists "
    "(`python scripts/translate.py check`), then `python scripts/translate.py build`"
)


def read(path):
    return nbformat.read(REPO / path, as_version=4)


@pytest.fixture
def chinese():
    """Messages and figures in Chinese for one test, English again after it."""
    saved = dict(matplotlib.rcParams)
    i18n.set_language("zh_CN")
    yield
    i18n.set_language("en")
    matplotlib.rcParams.update(saved)


# --------------------------------------------------------------------------
# The catalogs: complete, current, faithful
# --------------------------------------------------------------------------


@pytest.mark.parametrize("path, template", TEMPLATES, ids=CATALOG_IDS)
def test_every_english_text_has_a_finished_translation(path, template):
    catalog = catalogs.read_catalog(path)
    todo = catalogs.problems(catalog, template)
    assert not todo, f"{len(todo)} texts lack a translation, first {todo[0]}: {UPDATE}"
    stale = {entry.id for entry in catalog if entry.id} - {entry.id for entry in template if entry.id}
    assert not stale, f"the catalog still holds texts the English dropped: {UPDATE}"


@pytest.mark.parametrize("path, template", TEMPLATES, ids=CATALOG_IDS)
def test_translations_keep_numbers_code_formulas_and_structure(path, template):
    catalog = catalogs.read_catalog(path)
    found = {
        entry.id[:60]: quality.problems(entry.id, catalog.get(entry.id).string, entry.auto_comments[0])
        for entry in template
        if entry.id and catalog.get(entry.id) is not None
    }
    assert not {text: problem for text, problem in found.items() if problem}


def test_a_changed_english_text_is_flagged_until_translated(tmp_path):
    """What a change to the English does to a catalog: gettext's merge keeps
    the old translation but marks it fuzzy, and the tests refuse it."""
    english = "The cost falls to 0.07 after 15,000 iterations."
    path = tmp_path / "example.po"
    catalog = catalogs.update(path, catalogs.new_template([(english, ("x", 1), "markdown")], "x"))
    catalog.get(english).string = "代价在 15,000 次迭代后降到 0.07。"
    catalogs.write_catalog(catalog, path)
    changed = english.replace("0.07", "0.08")
    template = catalogs.new_template([(changed, ("x", 1), "markdown")], "x")
    assert catalogs.problems(catalogs.read_catalog(path), template) == [("missing", changed)]
    catalogs.update(path, template)
    assert catalogs.problems(catalogs.read_catalog(path), template) == [("fuzzy", changed)]
    assert quality.problems(changed, "代价在 15,000 次迭代后降到 0.07。") == [
        "numbers missing from the translation: ['0.08']"
    ]


def test_the_glossary_holds_one_rendering_per_term():
    """A term of locale/zh_CN/glossary.tsv is rendered as listed there, and a
    rendering it rules out is flagged wherever it appears."""
    assert quality.glossary_problems("### Written answer 1 - why?", "### 简答题 1：为什么？") == []
    assert quality.glossary_problems("### Written answer 1 - why?", "### 书面回答 1：为什么？") == [
        "glossary: 'written answer' is rendered '简答题'",
        "glossary: '书面回答' should read '简答题'",
    ]
    assert quality.glossary_problems("Its fan-in is 10.", "它的输入个数是 10。") == [
        "glossary: 'fan-in' is rendered '扇入'"
    ]
    # A ruled-out rendering is one only where the English has the term.
    assert quality.glossary_problems("The colours fade.", "颜色渐变。") == []
    # "spread" is the standard deviation, never 散布, except in a phrase the
    # glossary gives another sense (the outputs spread between 0.5 and 0.9).
    assert quality.glossary_problems("The spread of layer 1.", "第 1 层的散布。") == [
        "glossary: 'spread' is rendered '标准差'",
        "glossary: '散布' should read '标准差'",
    ]
    assert quality.glossary_problems("The spreads of layers 1 to 3.", "第 1 到第 3 层的标准差。") == []
    assert (
        quality.glossary_problems("The outputs spread between\n0.5 and 0.9.", "输出分布在 0.5 到 0.9 之间。")
        == []
    )
    assert quality.glossary_problems("The `utils` package", "`utils` 软件包") == [
        "glossary: '软件包' should read '包'"
    ]


def test_a_gloss_is_full_width_without_a_space():
    """d2l's style, 扇入（fan-in）: half-width brackets after Chinese, or a
    space before the bracket, are reported; code in brackets is no gloss."""
    english = "Its fan-in is the number of its inputs."
    assert quality.problems(english, "它的输入个数称为扇入（fan-in）。") == []
    for half_width in (
        "它的输入个数称为扇入 (fan-in)。",
        "它的输入个数称为扇入(fan-in)。",
        "称为**扇入** (fan-in)。",
    ):
        assert quality.problems(english, half_width + "扇入") == [
            f"gloss in half-width brackets: {quality._HALF_WIDTH_GLOSS.search(half_width).group(0)!r}; "
            "write 中文（English）"
        ]
    assert quality.problems(english, "它的输入个数称为扇入 （fan-in）。") == [
        "space before a full-width gloss: '入 （f'; write 中文（English）"
    ]
    assert quality.typography_problems("X -- 输入，形状为 (n_x, m)", "docstring") == []
    assert quality.typography_problems("ReLU 层用 $\\sqrt{2/n}$（He）。") == []
    assert quality.glosses("**扇入**（fan-in）与扇出（fan-out），何恺明（Kaiming He）") == [
        "fan-in",
        "fan-out",
        "Kaiming He",
    ]


def test_no_italics_on_chinese_text():
    english = "Explain *why* the first two fail, and read *Deep Information Propagation*."
    assert (
        quality.problems(english, "解释前两种方法**为什么**会失败，并阅读 *Deep Information Propagation*。")
        == []
    )
    assert quality.problems(
        english, "解释前两种方法*为什么*会失败，并阅读 *Deep Information Propagation*。"
    ) == ["italics on Chinese text: *为什么*; use bold or nothing"]
    # a list item's star, and bold, are no italics
    assert quality.typography_problems("* **zeros**：每个激活值都是 0。\n* 权重很小时，*") == []


def test_the_scale_formula_is_not_spelled_with_fan_in_in_chinese():
    english = "He initialization: normal draws scaled by sqrt(2 / fan-in)."
    for spelling in ("sqrt(2 / 扇入)", "√(2/扇入)", "sqrt(2/扇入)"):
        assert any(
            "formula written with 扇入" in problem
            for problem in quality.problems(english, f"按扇入缩放：{spelling}")
        )
    assert (
        quality.problems(english, "He 初始化：标准正态随机数按扇入缩放，乘以 sqrt(2 / layers_dims[l-1])。")
        == []
    )


def test_thousands_separators_may_be_left_out_in_chinese():
    english = "It repeats the steps 15,000 times and prints the cost every 1,000."
    assert quality.problems(english, "它把这些步骤重复 15000 次，每 1000 次打印一次代价。") == []
    assert quality.problems(english, "它把这些步骤重复 15,000 次，每 1,000 次打印一次代价。") == []
    assert quality.problems(english, "它把这些步骤重复 1500 次，每 1000 次打印一次代价。") == [
        "numbers missing from the translation: ['15,000']"
    ]


def test_a_translation_may_add_what_its_additions_allow():
    """Kaiming 初始化's PyTorch name, and further reading in Chinese at the end
    of a list, are not code or list items of the English."""
    english = "This is **He initialization** (He et al., 2015).\n\n* Glorot (2010). A paper."
    chinese = (
        "这就是 **He 初始化**，由何恺明等人于 2015 年提出（PyTorch 中对应 `kaiming_normal_`）。\n\n"
        "* Glorot (2010). 一篇论文。\n"
        "* 《动手学深度学习》，[数值稳定性和模型初始化](https://zh.d2l.ai/chapter_multilayer-perceptrons/numerical-stability-and-init.html)。"
    )
    assert quality.problems(english, chinese) == []
    assert quality.problems(english, chinese.replace("`kaiming_normal_`", "`torch.nn.init`")) == [
        "inline code spans differ: Counter() in English, Counter({'`torch.nn.init`': 1}) in the translation"
    ]


# The messages (course.po) are shared by every notebook: not one notebook's text.
NOTEBOOK_CATALOGS = [path for path, _ in TEMPLATES if path != RUNTIME_CATALOG]


@pytest.mark.parametrize("path", NOTEBOOK_CATALOGS, ids=[path.name for path in NOTEBOOK_CATALOGS])
def test_a_notebook_glosses_each_term_once(path):
    """扇入（fan-in） where the notebook defines the term, and nowhere else."""
    catalog = catalogs.read_catalog(path)
    counted = Counter(gloss for entry in catalog if entry.id for gloss in quality.glosses(entry.string))
    assert not [gloss for gloss, count in counted.items() if count > 1], counted


def test_a_printed_line_is_translated_as_a_string_literal_or_refused():
    source = 'print(f"Cost after iteration {i}: {cost}", end=" ")'
    chinese = translate_code(source, lambda kind, text: "第 {i} 次迭代后的代价：{cost}")
    assert chinese == 'print(f"第 {i} 次迭代后的代价：{cost}", end=" ")'
    for broken in ("代价 {cost", '代价" + "', "代价\\"):  # a stray brace, a quote, a final backslash
        with pytest.raises(ValueError, match="no one-line string literal"):
            translate_code(source, lambda kind, text, broken=broken: broken)


def test_titles_given_to_the_plotting_helpers_reach_the_catalog():
    """By keyword or by position, and both branches of a conditional title."""
    code = (
        'plot_costs(costs, 1000, "Cost by position")\n'
        'plot_layer_values(values, "T", "Y", xlabel="X")\n'
        'plot_dataset(X, Y, title="D" if wide else "E")\n'
        'print("not a figure")\n'
    )
    assert helper_figure_text(code) == ["Cost by position", "T", "Y", "X", "D", "E"]


def test_compiled_messages_match_their_catalog():
    """course.mo holds exactly the catalog's finished translations (the
    header, which names the Babel version that compiled it, aside)."""
    with open(RUNTIME_CATALOG.with_suffix(".mo"), "rb") as file:
        compiled = {message.id: message.string for message in read_mo(file) if message.id}
    assert compiled == catalogs.translations(catalogs.read_catalog(RUNTIME_CATALOG)), (
        f"course.mo is out of date: {UPDATE}"
    )


# --------------------------------------------------------------------------
# The Chinese notebooks: built from the English, same code, same results
# --------------------------------------------------------------------------


@pytest.mark.parametrize("english_path", EDITIONS)
def test_chinese_notebook_is_built_from_the_current_english(english_path):
    translated = catalogs.translations(catalogs.read_catalog(notebook_catalog(english_path)))
    built = without_outputs(chinese_notebook(english_path, translated))
    committed = without_outputs(read(EDITIONS[english_path]))
    assert committed == built, f"{EDITIONS[english_path]} is out of date: {UPDATE}"


def code_without_prose(source):
    """A code cell's tokens without comments and docstrings."""
    masked = masked_source(source)
    prose_starts = {span.start for span in code_spans(source)}
    return [
        (token.type, token.string)
        for token in tokenize.generate_tokens(io.StringIO(masked).readline)
        if token.type not in (tokenize.COMMENT, tokenize.NL) and token.start not in prose_starts
    ]


def hidden_region(source):
    """The lines of a cell's hidden tests, markers included."""
    lines = source.split("\n")
    hidden_begin, hidden_end = delimiters(REPO)["hidden tests"]
    begins = [number for number, line in enumerate(lines) if hidden_begin in line]
    ends = [number for number, line in enumerate(lines) if hidden_end in line]
    return [lines[begin : end + 1] for begin, end in zip(begins, ends)]


@pytest.mark.parametrize("english_path", EDITIONS)
def test_both_editions_run_the_same_code(english_path):
    english, chinese_edition = read(english_path), read(EDITIONS[english_path])
    assert len(english.cells) == len(chinese_edition.cells)
    for ours, theirs in zip(english.cells, chinese_edition.cells):
        assert (ours.cell_type, ours.metadata, ours.get("id")) == (
            theirs.cell_type,
            theirs.metadata,
            theirs.get("id"),
        )
        if ours.cell_type == "code":
            assert code_without_prose(
                ours.source.replace(LANGUAGE_CALL, CHINESE_LANGUAGE_CALL)
            ) == code_without_prose(theirs.source)
        if is_graded_test(ours):
            # Only the comments a student reads differ: the hidden tests,
            # comments included, are the same text in both editions.
            assert hidden_region(ours.source) == hidden_region(theirs.source)


CHINESE_RELEASES = [
    "release/initialization_zh/Initialization.ipynb",
    "release/initialization_deep_zh/InitializationDeep.ipynb",
]
_CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("release", CHINESE_RELEASES)
def test_the_chinese_release_has_no_english_comment(release):
    """Every comment a student reads in a Chinese release is in Chinese, the
    graded test cells' included; nbgrader's markers (### ...) and tool
    comments (# noqa) are not prose."""
    english = []
    for index, cell in enumerate(read(release).cells):
        if cell.cell_type != "code":
            continue
        magics = {number for number, line in enumerate(cell.source.split("\n"), 1) if line.startswith("%")}
        for token in tokenize.generate_tokens(io.StringIO(masked_source(cell.source)).readline):
            if token.type != tokenize.COMMENT or token.string.startswith("###") or token.start[0] in magics:
                continue
            text = token.string.lstrip("#").strip()
            if re.search(r"[A-Za-z]{3,}", text) and not _CJK.search(text) and not text.startswith("noqa"):
                english.append(f"cell {index}: {token.string}")
    assert not english, "English comments in the Chinese release:\n" + "\n".join(english)


def test_every_catalog_header_is_filled_in():
    """No placeholder of gettext's template is left in a catalog's header."""
    for path, _ in TEMPLATES:
        header = path.read_text(encoding="utf-8").split("\n\n", 1)[0]
        for placeholder in ("FIRST AUTHOR", "EMAIL@ADDRESS", "YEAR-MO-DA", "VERSION", "PACKAGE"):
            assert placeholder not in header, f"{path.relative_to(REPO)}: {placeholder} in its header"


def printed_numbers(cell):
    text = ""
    for output in cell.get("outputs", []):
        text += output.get("text", "") + output.get("data", {}).get("text/plain", "")
    return quality.numbers(text)


@pytest.mark.parametrize("english_path", EDITIONS)
def test_chinese_outputs_print_the_english_numbers(english_path):
    """The recorded outputs of the two editions differ in words only."""
    english, chinese_edition = read(english_path), read(EDITIONS[english_path])
    for index, (ours, theirs) in enumerate(zip(english.cells, chinese_edition.cells)):
        if ours.cell_type == "code" and "nbval-ignore-output" not in ours.metadata.get("tags", []):
            assert printed_numbers(ours) == printed_numbers(theirs), f"cell {index}"


@pytest.mark.parametrize("english_path", EDITIONS)
def test_chinese_notebook_draws_every_character(english_path):
    """No recorded output holds matplotlib's missing-glyph warning, and the
    figures were drawn in Chinese (the catalog's figure text is used)."""
    notebook = read(EDITIONS[english_path])
    streams = printed_by_notebook(notebook)
    assert "missing from font" not in streams
    assert "Notice:" not in streams and "注意" not in streams


# --------------------------------------------------------------------------
# Messages and figures at run time
# --------------------------------------------------------------------------


def test_checks_speak_the_chosen_language(chinese, capsys):
    def ones(layers_dims):
        return {key: value + 1 for key, value in zero_parameters(layers_dims).items()}

    with pytest.raises(AssertionError) as failure:
        check_zeros_initializer(ones)
    assert CJK.search(str(failure.value)), str(failure.value)
    check_zeros_initializer(zero_parameters)
    assert CJK.search(capsys.readouterr().out.splitlines()[-1])


def test_an_unanswered_exercise_says_so_in_chinese(chinese):
    def unanswered(layers_dims):
        raise NotImplementedError()

    with pytest.raises(AssertionError) as failure:
        check_he_initializer(unanswered)
    assert type(failure.value).__name__ == "NotAnswered"
    assert CJK.search(str(failure.value)) and "NotImplementedError" in str(failure.value)


def test_chinese_figures_name_each_method_as_the_prose_does(chinese):
    """A legend shows a method's display name in Chinese (较大的随机值, He 初始化),
    never its code name alone, and the same name in every figure."""
    ax = plot_costs({method: [0.7, 0.5] for method in METHOD_NAMES}, 100, "Costs")
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == [i18n.figure_text(name) for name in METHOD_NAMES.values()]
    assert all(CJK.search(name) for name in legend), legend
    plt.close("all")


def zero_parameters(layers_dims):
    return {
        f"{kind}{l}": np.zeros((layers_dims[l], layers_dims[l - 1] if kind == "W" else 1))
        for l in range(1, len(layers_dims))
        for kind in "Wb"
    }


def test_every_chinese_figure_text_renders_with_the_installed_font(chinese):
    assert i18n.find_cjk_font(i18n.CJK_FONT_FAMILIES), "setup installs fonts-wqy-microhei"
    texts = [
        entry.string
        for entry in catalogs.read_catalog(RUNTIME_CATALOG)
        if entry.id and CJK.search(entry.string)
    ]
    figure, axes = plt.subplots()
    for number, text in enumerate(texts):
        axes.text(0, number, text)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" is a UserWarning
        figure.canvas.draw()
    plt.close(figure)


def test_without_a_chinese_font_figures_fall_back_to_english(monkeypatch, capsys):
    monkeypatch.setattr(i18n, "CJK_FONT_FAMILIES", ("No Such Font Family",))
    try:
        i18n.set_language("zh_CN")  # matplotlib is imported here: the font is looked for at once
        notice = capsys.readouterr().out
        assert notice.count("\n") == 1 and CJK.search(notice), notice
        assert i18n.figure_text("iteration") == "iteration"
        assert capsys.readouterr().out == ""  # said once
        assert CJK.search(i18n.tr("All visible tests passed."))
    finally:
        i18n.set_language("en")


def test_an_unknown_language_is_refused_by_name():
    with pytest.raises(ValueError, match="zh_CN.*'fr'"):
        i18n.set_language("fr")


# --------------------------------------------------------------------------
# Every answer of the example classes, checked in both languages
# --------------------------------------------------------------------------

# The students whose visible checks alone decide their points: plain code,
# which can run in this process.
CHECKED_HERE = [
    (example, student)
    for example in (example_class, example_class_deep)
    for student, case in example.STUDENTS.items()
    if decided_by_visible_checks(case)
]


def visible_check_errors(example, assignment, answers):
    """{visible check's grade_id: (exception name, mistake id, message), or
    None when it passed}: assignment's release with answers typed in, its
    code run here as the grader runs it (experiments left out)."""
    release = nbformat.read(REPO / "release" / assignment / f"{example.NOTEBOOK}.ipynb", as_version=4)
    namespace, errors = {}, {}
    # The Chinese notebook's first cells choose Chinese and its font, and the
    # answers seed numpy: each is as it was again afterwards.
    random_state = np.random.get_state()
    with matplotlib.rc_context():
        try:
            for cell in fill_in(release, answers).cells:
                if cell.cell_type != "code" or "skip-when-grading" in cell.metadata.get("tags", []):
                    continue
                grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
                try:
                    exec(cell.source, namespace)
                except Exception as error:  # what the student reads under the check
                    if grade_id not in example.POINTS:
                        raise
                    errors[grade_id] = (type(error).__name__, getattr(error, "mistake", None), str(error))
                else:
                    if grade_id in example.POINTS:
                        errors[grade_id] = None
        finally:
            i18n.set_language("en")
            np.random.set_state(random_state)
    return errors


@pytest.mark.parametrize(
    "example, student", CHECKED_HERE, ids=[f"{e.ASSIGNMENT}-{s}" for e, s in CHECKED_HERE]
)
def test_every_answer_of_the_example_classes_gets_the_same_verdict_in_chinese(example, student, capsys):
    """In the Chinese edition the checks fail exactly the exercises they
    fail in English, which are those that lose points, with the same error
    and mistake id (those the class report counts) and a message in
    Chinese. So the Chinese class that tests/test_grading.py grades needs
    only one student for each path through the grader."""
    case = example.STUDENTS[student]
    losing = {grade_id for grade_id, points in case["expected"].items() if points < example.POINTS[grade_id]}
    english = visible_check_errors(example, example.ASSIGNMENT, case["answers"])
    chinese = visible_check_errors(example, example.ASSIGNMENT + "_zh", case["answers"])
    capsys.readouterr()  # what the checks printed
    assert {grade_id: error[1] for grade_id, error in english.items() if error} == {
        grade_id: case["mistakes"][grade_id] for grade_id in losing
    }
    assert {grade_id: error and error[:2] for grade_id, error in chinese.items()} == {
        grade_id: error and error[:2] for grade_id, error in english.items()
    }
    for grade_id in losing:
        assert CJK.search(chinese[grade_id][2]), (grade_id, chinese[grade_id][2])
        assert not CJK.search(english[grade_id][2]), (grade_id, english[grade_id][2])
