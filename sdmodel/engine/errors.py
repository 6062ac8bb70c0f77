"""Exceptions raised by the engine."""

from __future__ import annotations


class UnsupportedConstructError(NotImplementedError):
    """A model construct the engine cannot compile.

    Raised at compile time, naming the element and the construct, so that the engine
    never returns a silently wrong answer.
    """

    def __init__(self, element: str, construct: str):
        self.element = element
        self.construct = construct
        super().__init__(f"element '{element}': unsupported construct {construct}")


class UnknownParameterError(ValueError, KeyError):
    """A run parameter names no overridable element (or no element of its range)."""

    def __init__(self, key: str, why: str = "no such constant or stock"):
        self.key = key
        super().__init__(f"parameter '{key}': {why}")

    def __str__(self) -> str:  # KeyError would repr() the message
        return self.args[0]
