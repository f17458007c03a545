"""A trait that lets the course's nbgrader preprocessors take nbconvert's configuration quietly.

nbconvert sets NbConvertBase.display_data_priority; nbgrader's preprocessors redefine it without
config=True, so traitlets warns "Config option ... not recognized" for every notebook. A course
preprocessor declares `display_data_priority = display_data_priority()`: a configurable copy, unused.
"""

from nbgrader.preprocessors import ClearHiddenTests
from traitlets import List


def display_data_priority() -> List:
    return List(ClearHiddenTests.class_traits()["display_data_priority"].default()).tag(config=True)
