"""YAML to plain data, remembering where every key and value was written.

Owns reading a scenario's text: PyYAML composes the node tree (safe tags only) and we walk it,
building dicts, lists and scalars while recording each value's and each key's line:column in a
`Marks`. Also reported here, as positions, not tracebacks: syntax errors, duplicate keys,
non-scalar keys, unknown tags and alias bombs. Dates stay strings (no timestamp resolver).
"""
from __future__ import annotations

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from lab.scenario.errors import Marks

MAX_NODES = 100_000  # values after alias expansion; a scenario has a few hundred


class YamlProblem(Exception):
    """The text is not a YAML document we accept; the first problem, with its position."""

    def __init__(self, line: int, col: int, message: str):
        super().__init__(message)
        self.line, self.col, self.message = line, col, message


class _Loader(yaml.SafeLoader):
    """SafeLoader without the timestamp resolver: `2025-12-04` in sources stays a string."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _mark(node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _line_col(text: str, index: int) -> tuple[int, int]:
    before = text[:index]
    return before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1


def load(text: str) -> tuple[object, Marks, list[YamlProblem]]:
    """Parse one YAML document: (data, marks, problems that did not stop the walk).

    Raises YamlProblem for text that is not YAML at all (syntax, characters, several documents).
    Duplicate keys and non-scalar keys are returned as problems; the later key wins.
    """
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as e:
        raise _problem(e) from None
    except yaml.reader.ReaderError as e:
        line, col = _line_col(text, e.position)
        raise YamlProblem(line, col, f"YAML: unacceptable character #x{e.character:04x} "
                                     "(control characters are not allowed)") from None
    except yaml.YAMLError as e:
        raise YamlProblem(1, 1, f"YAML: {e}") from None
    except RecursionError:
        raise YamlProblem(1, 1, "YAML: nested too deeply") from None
    marks = Marks()
    if node is None:
        return None, marks, []
    walker = _Walker(loader, marks)
    try:
        data = walker.build(node, ())
    except yaml.MarkedYAMLError as e:
        raise _problem(e) from None
    except RecursionError:
        raise YamlProblem(*_mark(node), "YAML: nested too deeply") from None
    return data, marks, walker.problems


def _problem(e: yaml.MarkedYAMLError) -> YamlProblem:
    mark = e.problem_mark or e.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    text = e.problem or e.context or "not valid YAML"
    if e.context and e.problem and e.problem.startswith("but "):
        text = f"{e.context}, {e.problem}"
    elif e.context and e.problem and e.context_mark and e.context_mark is not mark:
        text = f"{e.problem} ({e.context} at line {e.context_mark.line + 1})"
    if e.problem == "mapping values are not allowed here":
        text += " (a value with ': ' in it needs quotes)"
    return YamlProblem(line, col, f"YAML: {text}")


class _Walker:
    def __init__(self, loader: _Loader, marks: Marks):
        self.loader = loader
        self.marks = marks
        self.problems: list[YamlProblem] = []
        self.count = 0

    def build(self, node, path: tuple):
        self.count += 1
        if self.count > MAX_NODES:
            raise YamlProblem(*_mark(node), f"YAML: more than {MAX_NODES} values "
                                            "(aliases expanding too far?)")
        self.marks.values[path] = _mark(node)
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        if isinstance(node, ScalarNode):
            return self.loader.construct_object(node, deep=True)
        raise YamlProblem(*_mark(node), "YAML: unexpected node")  # pragma: no cover

    def _mapping(self, node: MappingNode, path: tuple) -> dict:
        own = sum(1 for k, _ in node.value
                  if not (isinstance(k, ScalarNode) and k.tag == "tag:yaml.org,2002:merge"))
        self.loader.flatten_mapping(node)          # resolves `<<: *anchor` merge keys
        merged = len(node.value) - own
        result: dict = {}
        first_line: dict[str, int] = {}
        for i, (knode, vnode) in enumerate(node.value):
            if not isinstance(knode, ScalarNode):
                self.problems.append(YamlProblem(
                    *_mark(knode), "a key must be a plain word, not a list or mapping"))
                continue
            key = str(knode.value)
            if key in first_line and i >= merged and first_line[key] > 0:
                self.problems.append(YamlProblem(
                    *_mark(knode), f"duplicate key '{key}' (first at line {first_line[key]})"))
            first_line[key] = _mark(knode)[0] if i >= merged else 0
            self.marks.keys[path + (key,)] = _mark(knode)
            result[key] = self.build(vnode, path + (key,))
        return result


def read(path, rep, what: str, empty: str):
    """The data of the YAML file at `path`, with its positions in `rep.marks`; None (having
    reported FILE:LINE:COL) when it cannot be read, is not UTF-8 or not YAML, or is empty.

    `what` names the file in messages ("file", "plan"); `empty` says what an empty one lacks.
    Shared by scenarios (lab/scenario/loader.py) and campaign plans (lab/campaign/plan.py)."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        rep.at(1, 1, f"cannot read the {what}: {e.strerror or e}")
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        before = raw[:e.start]
        line, col = before.count(b"\n") + 1, e.start - (before.rfind(b"\n") + 1) + 1
        rep.at(line, col, f"not UTF-8 text (byte 0x{raw[e.start]:02x})")
        return None
    try:
        data, marks, problems = load(text)
    except YamlProblem as p:
        rep.at(p.line, p.col, p.message)
        return None
    rep.marks = marks
    for p in problems:
        rep.at(p.line, p.col, p.message)
    if data is None:
        rep.at(1, 1, empty)
    return data
