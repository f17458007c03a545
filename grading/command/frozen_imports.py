"""Imported last by the worker server (worker_server.py), once the grading
pipeline is imported: moves every object the imports made out of the garbage
collector's reach (gc.freeze, as Python's documentation advises before
forking). The forked workers then neither collect them nor copy their memory
pages by touching them, and the server's exit skips them too: it ended about
0.2 s after the command, which a caller reading the command's output waits for."""

import gc

gc.freeze()
