"""Exceptions raised by the engine."""

from __future__ import annotations

import os

from sdmodel.errors import SdmodelError


class UnsupportedConstructError(SdmodelError, NotImplementedError):
    """A model construct the engine cannot compile.

    Raised at compile time, naming the element and the construct, so that the engine
    never returns a silently wrong answer. It is a user error (the model file is the
    user's input): the command line prints it as one line and exits with status 2.

    Parameters
    ----------
    element
        The model element (Vensim name).
    construct
        What the engine cannot compile there.
    path
        The model file, when known (:func:`sdmodel.engine.compile_model` adds it).
    """

    def __init__(self, element: str, construct: str, path: str | os.PathLike | None = None):
        self.element = element
        self.construct = construct
        self.path = path
        where = f"{path}: " if path is not None else ""
        super().__init__(f"{where}element '{element}': unsupported construct {construct}")

    def __reduce__(self):  # picklable with its three arguments (Dask workers)
        return (type(self), (self.element, self.construct, self.path))


class UnknownParameterError(ValueError, KeyError):
    """A run parameter names no overridable element (or no element of its range)."""

    def __init__(self, key: str, why: str = "no such constant or stock"):
        self.key = key
        super().__init__(f"parameter '{key}': {why}")

    def __str__(self) -> str:  # KeyError would repr() the message
        return self.args[0]
