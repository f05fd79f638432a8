"""The ``guideline-assistant`` command line.

Exit codes: 0 answered (an abstention is an answer), 1 the corpus, index or
model cannot be used, 2 the input cannot be answered as given (empty or
over-long question, bad option). Messages go to stderr; answers to stdout.
Each group of commands lives in its own module; importing them registers them.
"""

from __future__ import annotations

from assistant.cli import ask, audit, evaluate, feedback, index, serve, train  # noqa: F401  (registers the commands)
from assistant.cli.common import EXIT_FAILURE, EXIT_INPUT, EXIT_OK, app, index_app

__all__ = ["EXIT_FAILURE", "EXIT_INPUT", "EXIT_OK", "app", "index_app", "main"]


def main() -> None:
    """Console-script entry point."""
    app()
