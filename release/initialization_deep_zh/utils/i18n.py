"""The language of the helpers' messages and of the figures' text.

The course is written in English; its Chinese edition (simplified Chinese,
``zh_CN``) shows the same checks and figures in Chinese. Both editions run
the same code: the notebook's imports cell chooses the language with
``set_language``, and every message and figure label goes through gettext's
catalog in ``utils/locale/<language>/LC_MESSAGES/course.mo`` (compiled from
the ``course.po`` beside it). English needs no catalog: it is the source.

* ``tr(text)`` -- a message (a check's verdict, a printed line), translated.
* ``figure_text(text)`` -- a title, axis label or legend entry. Translated
  only when matplotlib has a font with Chinese glyphs: without one, Chinese
  text would render as empty boxes, so the figures stay in English and
  ``set_language`` (or the first figure) says so in one line.

Messages with values are translated first and filled in after, so that the
catalog holds one entry per message, not one per value::

    tr("{name} has shape {shape}").format(name="W1", shape=(2, 3))

The environment variable ``COURSE_LANGUAGE`` sets the language before any
notebook code runs (``COURSE_LANGUAGE=zh_CN jupyter lab``); ``set_language``
overrides it.
"""

import builtins
import contextlib
import contextvars
import gettext
import os
import re
import sys

DOMAIN = "course"
LOCALE_FOLDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "locale")
ENGLISH = "en"
LANGUAGES = (ENGLISH, "zh_CN")

# Font families with Chinese glyphs, most common first: Linux (Debian's
# fonts-wqy-microhei, fonts-noto-cjk), Windows, macOS, and the Adobe/Google
# family that many people install by hand.
CJK_FONT_FAMILIES = (
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Microsoft YaHei",
    "SimHei",
    "DengXian",
    "PingFang SC",
    "Hiragino Sans GB",
    "Heiti SC",
    "STHeiti",
    "Source Han Sans SC",
    "Noto Sans CJK JP",
    "Arial Unicode MS",
)

# The grader judges a check in the language of the notebook it grades, one
# submission per thread, while other threads go on: that language, and the
# stream that collects the check's lines, belong to the judging context
# alone (None outside judging), never to the process.
_judging = contextvars.ContextVar("judging", default=None)

# figure_font: the CJK font the figures use, None until the first figure
# text of a non-English language is asked for, "" when the machine has none.
_state = {"language": ENGLISH, "catalog": gettext.NullTranslations(), "figure_font": None}


def set_language(language):
    """Show messages and figure text in ``language`` ("en" or "zh_CN").

    For Chinese, matplotlib is also given a font with Chinese glyphs: at
    once if matplotlib is imported already (the notebooks import it in the
    cell before), else when the first figure text is asked for, so that a
    kernel that draws nothing, such as a graded one, never imports it. If
    the machine has no such font, figures stay in English and a one-line
    notice says so.
    """
    if language not in LANGUAGES:
        raise ValueError(f"language should be one of {', '.join(LANGUAGES)}, got {language!r}")
    _state["language"] = language
    _state["catalog"] = translation(language)
    _state["figure_font"] = None
    if "matplotlib" in sys.modules:
        # Now, before any axes exist: a title made before the font is set
        # keeps the old one.
        _figures_translated()


def _figures_translated():
    """Whether figure text is shown in the chosen language: English always;
    another language when matplotlib has a font for it (looked up, and
    given to matplotlib, on the first call)."""
    if _state["language"] == ENGLISH:
        return False
    if _state["figure_font"] is None:
        _state["figure_font"] = _use_cjk_font() or ""
    return bool(_state["figure_font"])


def _use_cjk_font():
    """Give matplotlib a font with Chinese glyphs and return its family, or
    print a notice and return None when the machine has none."""
    font = find_cjk_font(CJK_FONT_FAMILIES)
    if font is None:
        print(
            tr(
                "Notice: no font with Chinese characters was found, so the "
                "figures keep their English labels (install one, for example "
                "Noto Sans CJK SC or WenQuanYi Micro Hei, and restart the kernel)."
            )
        )
        return None
    from matplotlib import rcParams

    # matplotlib draws each character with the first font of the family
    # list that has it: Latin letters and digits keep their usual look
    # (DejaVu Sans, matplotlib's default), Chinese ones come from the CJK font.
    families = [name for name in rcParams["font.family"] if name != font]
    if families == ["sans-serif"]:
        families = rcParams["font.sans-serif"][:1]
    rcParams["font.family"] = families + [font]
    return font


def translation(language):
    """gettext's translations into ``language``, without changing the
    language of this notebook's messages (the grader uses it to write in the
    language of the notebook it grades). English needs no catalog."""
    if language not in LANGUAGES:
        raise ValueError(f"language should be one of {', '.join(LANGUAGES)}, got {language!r}")
    if language == ENGLISH:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_FOLDER, [language])


def notebook_language(notebook):
    """The language a notebook is written in: the ``course.language`` of its
    metadata, which the Chinese edition's build sets; English without one."""
    metadata = notebook.get("metadata")
    course = metadata.get("course") if isinstance(metadata, dict) else None
    language = course.get("language") if isinstance(course, dict) else None
    return language if isinstance(language, str) and language in LANGUAGES else ENGLISH


def get_language():
    """The language chosen by ``set_language`` (or the environment)."""
    return _state["language"]


def find_cjk_font(families):
    """The first of ``families`` (names of font families) that matplotlib
    can find, or None.

    matplotlib lists the system's fonts once and caches the list, so a font
    installed after that is unknown to it: before giving up, look at the
    system's font files again and add the new ones. (matplotlib is imported
    here, not on import: a graded run draws no figure.)"""
    from matplotlib import font_manager

    found = _first_installed(families)
    if found is None:
        known = {entry.fname for entry in font_manager.fontManager.ttflist}
        for path in font_manager.findSystemFonts():
            if path not in known:
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    pass  # a file matplotlib cannot read is no candidate
        found = _first_installed(families)
    return found


def _first_installed(families):
    from matplotlib import font_manager

    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    return next((family for family in families if family in installed), None)


@contextlib.contextmanager
def judging_in(language, stream):
    """For the block, in this context only (a thread, an asyncio task):
    ``tr`` translates into ``language`` and ``say`` writes to ``stream``.
    The process's language, its figures' font and ``sys.stdout`` stay as
    they were. The grader judges checks in this."""
    token = _judging.set((translation(language), stream))
    try:
        yield
    finally:
        _judging.reset(token)


def tr(text):
    """``text`` (an English message) in the chosen language."""
    judging = _judging.get()
    catalog = judging[0] if judging else _state["catalog"]
    return catalog.gettext(text)


def student_text(value, safe=None):
    """``str(value)``, for a check's message that quotes what the student's
    code chose: a key it looked up, an error's message, a list it changed.

    While the grader judges (``judging_in``), the student's function has
    seen the hidden tests, and the message goes into the feedback: there,
    only text that fully matches the regular expression ``safe`` is quoted,
    and anything else reads as a placeholder. In the notebook it is quoted
    whole."""
    text = str(value)
    if _judging.get() is None or (safe is not None and re.fullmatch(safe, text)):
        return text
    return tr("[not shown when graded]")


# Names of Python's built-in types and errors, and of numpy's arrays and
# scalars, which a graded message may quote ("not list", "raised KeyError"):
# a class the student's code made can have any name.
KNOWN_TYPE_NAMES = frozenset(
    {name for name, value in vars(builtins).items() if isinstance(value, type)}
    | {"ndarray", "bool_", "str_", "float16", "float32", "float64", "int8", "int16", "int32", "int64"}
    | {"uint8", "uint16", "uint32", "uint64", "complex64", "complex128", "NoneType"}
)


def student_type_name(value):
    """The name of value's type (value's own, if it is a class), for a
    check's message: while the grader judges, only a known name
    (KNOWN_TYPE_NAMES), as student_text quotes text."""
    name = (value if isinstance(value, type) else type(value)).__name__
    return name if name in KNOWN_TYPE_NAMES else student_text(name)


def say(text):
    """Print a check's line: under the cell in a notebook, or to the
    grader's stream while it judges (``judging_in``)."""
    judging = _judging.get()
    print(text, file=judging[1] if judging else None)


def figure_text(text):
    """``text`` (an English figure label) in the chosen language, if
    matplotlib can draw it; otherwise in English."""
    return tr(text) if _figures_translated() else text


def N_(text):
    """Mark text for translation without translating it now."""
    return text


def _language_from_environment():
    language = os.environ.get("COURSE_LANGUAGE", "").strip()
    if language and language != ENGLISH:
        set_language(language)


_language_from_environment()
