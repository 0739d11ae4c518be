"""Diagnostics: what is wrong with a scenario file, where, and how it is collected.

Owns `Diagnostic` (one `FILE:LINE:COL: message`), `ScenarioError` (all of a file's
diagnostics at once) and `Reporter`, which the checking passes share so that every error of a
file is found in one pass and no value is blamed twice: a value the schema already rejected is
"bad" and the later passes leave it alone.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable, Sequence, Union

PathKey = Union[str, int]
DataPath = tuple  # tuple[PathKey, ...]: keys and list indexes from the document root


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem: file, 1-based line and column of the offending key or value, message."""
    path: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.message}"


class ScenarioError(Exception):
    """A scenario could not be loaded; `diagnostics` says every reason, str() one per line."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(d) for d in self.diagnostics)


def field_name(path: Sequence[PathKey]) -> str:
    """('censor', 'rules', 1, 'action') -> 'censor.rules[1].action'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def closest(word: object, choices: Iterable[str]) -> str | None:
    """The choice `word` most likely meant (same word in other case, or a near spelling)."""
    if not isinstance(word, str):
        return None
    choices = [c for c in choices if isinstance(c, str)]
    lowered = {c.lower(): c for c in choices}
    if word.lower() in lowered and lowered[word.lower()] != word:
        return lowered[word.lower()]
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """' (did you mean 'X'?)' for the closest choice, or ''."""
    best = closest(word, choices)
    return f" (did you mean '{best}'?)" if best else ""


def show(value: object) -> str:
    """A value as the message should quote it: strings in quotes, others as YAML spells them."""
    if isinstance(value, str):
        text = value if len(value) <= 60 else value[:57] + "..."
        return repr(text) if "'" not in text else '"' + text.replace('"', '\\"') + '"'
    if value is None:
        return "null"
    if value is True or value is False:
        return str(value).lower()
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def kind_of(value: object) -> str:
    """'a string', 'a number', ... for 'expected X, got Y' messages."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{show(value)} (a boolean)"
    if isinstance(value, (int, float)):
        return f"a number ({show(value)})"
    if isinstance(value, str):
        return f"a string ({show(value)})"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


class Marks:
    """Where each value and each mapping key of a document starts (1-based line, column)."""

    def __init__(self) -> None:
        self.values: dict[DataPath, tuple[int, int]] = {}
        self.keys: dict[DataPath, tuple[int, int]] = {}

    def value(self, path: DataPath) -> tuple[int, int]:
        """The value at `path`; for a missing value, the nearest enclosing one."""
        path = tuple(path)
        while path not in self.values and path:
            path = path[:-1]
        return self.values.get(path, (1, 1))

    def key(self, path: DataPath) -> tuple[int, int]:
        """The key naming the value at `path` (its value's position for list items)."""
        path = tuple(path)
        return self.keys[path] if path in self.keys else self.value(path)


class Reporter:
    """Collects one file's diagnostics and remembers which values were found bad."""

    def __init__(self, file: str, marks: Marks | None = None):
        self.file = file
        self.marks = marks or Marks()
        self.diagnostics: list[Diagnostic] = []
        self.bad: set[DataPath] = set()

    def at(self, line: int, col: int, message: str) -> None:
        self.diagnostics.append(Diagnostic(self.file, line, col, message))

    def error(self, path: DataPath, message: str, *, key: bool = False,
              field: DataPath | None = None) -> None:
        """Blame the value at `path` (or, with key=True, its key); the message is prefixed
        with the field's name (`field`, default `path`). A missing value is blamed at the
        mapping that lacks it."""
        path = tuple(path)
        line, col = self.marks.key(path) if key else self.marks.value(path)
        name = field_name(path if field is None else field)
        self.at(line, col, f"{name}: {message}" if name else message)
        self.bad.add(path)

    def ok(self, path: DataPath) -> bool:
        """Nothing at `path` or around it (an enclosing value) was found bad."""
        path = tuple(path)
        return not any(path[:i] in self.bad for i in range(len(path) + 1))

    def clean(self, path: DataPath) -> bool:
        """`ok`, and nothing inside the value at `path` was found bad either."""
        path = tuple(path)
        n = len(path)
        return self.ok(path) and not any(b[:n] == path for b in self.bad)

    def get(self, data: object, path: DataPath, key: str, default=None, types=None, *,
            whole: bool = True):
        """`data[key]` when it is there and nothing in it was found bad; else `default`.

        `types` (a type or tuple) double-checks what the schema promised; a mismatch is
        reported rather than crashing a later pass. `whole=False` (see `part`) only asks
        that the value itself is not bad, whatever is inside it."""
        if not isinstance(data, dict) or key not in data:
            return default
        where = tuple(path) + (key,)
        if not (self.clean(where) if whole else self.ok(where)):
            return default
        value = data[key]
        if types is not None and not _is(value, types):
            self.error(where, f"expected {_names(types)}, got {kind_of(value)}")
            return default
        return value

    def part(self, data: object, path: DataPath, key: str, default=None, types=None):
        """A container (list or mapping) to look into: like `get`, whatever is bad inside."""
        return self.get(data, path, key, default, types, whole=False)


def _is(value: object, types) -> bool:
    types = types if isinstance(types, tuple) else (types,)
    if isinstance(value, bool) and bool not in types:
        return False
    return isinstance(value, types)


def _names(types) -> str:
    types = types if isinstance(types, tuple) else (types,)
    words = {str: "a string", int: "a whole number", float: "a number", bool: "true or false",
             list: "a list", dict: "a mapping"}
    return " or ".join(words.get(t, t.__name__) for t in types)
