"""User-facing errors.

Every message names its culprit (a file, a key, a model element) so that the command
line can print it as one line and exit with status 2.
"""

from __future__ import annotations


class SdmodelError(Exception):
    """An error caused by the user's input: a file, a scenario key, a model name."""
