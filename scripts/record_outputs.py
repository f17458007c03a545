"""Execute notebooks in place to refresh their recorded outputs.

    python scripts/record_outputs.py source/initialization/Initialization.ipynb notebooks/*.ipynb

Run it after editing a notebook in source/ or notebooks/: nbval compares
the outputs recorded here with a fresh run. Each notebook runs in its own
folder, as JupyterLab runs it. Consecutive prints are merged into one output
(the kernel splits them at arbitrary moments) and no timestamps are
recorded, so that recording an unchanged notebook gives the same file.
"""

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def merge_streams(outputs):
    """Merge consecutive stdout (or stderr) outputs into one.

    Not nbclient's coalesce_streams: that merges every stdout output of a
    cell into its first, so the text a cell prints after a figure (the
    accuracies below the decision boundaries of Initialization.ipynb) would
    be recorded above the figure. Only neighbours are merged here, and the
    order the student sees when running the cell is kept."""
    merged = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            output.output_type == "stream"
            and previous is not None
            and previous.output_type == "stream"
            and previous.name == output.name
        ):
            previous.text += output.text
        else:
            merged.append(output)
    return merged


def record(path):
    path = Path(path).resolve()
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = merge_streams(cell.outputs)
    nbformat.write(notebook, path)
    errors = [
        output.ename
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error"
    ]
    print(f"recorded {path.name}" + (f" (errors: {errors})" if errors else ""))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for notebook_path in sys.argv[1:]:
        record(notebook_path)
