"""A trait that lets the course's nbgrader preprocessors take nbconvert's
configuration without a warning.

nbconvert's HTML exporter sets NbConvertBase.display_data_priority for
everything it runs; nbgrader's preprocessors redefine that trait without
config=True, and traitlets then warns "Config option display_data_priority
not recognized" for every notebook. A preprocessor of the course declares
`display_data_priority = display_data_priority()`: a configurable copy (as
nbgrader's own GetGrades has), which it does not use.
"""

from nbgrader.preprocessors import ClearHiddenTests
from traitlets import List


def display_data_priority() -> List:
    return List(ClearHiddenTests.class_traits()["display_data_priority"].default()).tag(config=True)
