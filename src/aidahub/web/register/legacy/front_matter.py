"""A record's text: front matter and body apart, and the YAML read with every key's line."""

from __future__ import annotations

from typing import Any

import yaml

from aidahub.web.register.legacy.reader import SkipRecord, join_path

__all__ = ["load_yaml", "normalize_text", "split_front_matter"]


def normalize_text(text: str) -> str:
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x00" in text:
        raise SkipRecord("not a text file (it contains NUL bytes)")
    return text.replace("\r\n", "\n").replace("\r", "\n")


class _RecordLoader(yaml.SafeLoader):
    """YAML as the legacy register wrote it, read without guessing.

    Dates stay text (``2019-04-00`` is not a date a YAML library can build, and the importer
    repairs it itself) and so do decimals (``version: 1.10`` is not 1.1). Aliases are refused:
    no record needs them and they can multiply a small file into a huge one.
    """

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None,
                None,
                "aliases (*name) are not allowed in register records",
                event.start_mark,
            )
        return super().compose_node(parent, index)


_RecordLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers
            if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:float")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}  # fmt: skip


def split_front_matter(text: str) -> tuple[str, str, int]:
    """(front matter, body, line of the body's first line) of a record's text."""
    if not text.strip():
        raise SkipRecord("the file is empty")
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        raise SkipRecord(
            "no front matter: a record starts with a line '---', then its YAML, then another "
            "line '---'"
        )
    for number in range(1, len(lines)):
        if lines[number].rstrip() in ("---", "..."):
            front = "\n".join(lines[1:number]) + "\n"
            return front, "\n".join(lines[number + 1 :]), number + 2
    raise SkipRecord("the front matter that starts on line 1 has no closing line '---'")


def _line_map(node: yaml.Node, path: str, lines: dict[str, int]) -> None:
    """File line (1-based; line 1 is the opening '---') of every key and list entry."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = join_path(path, str(key_node.value))
            lines.setdefault(key, key_node.start_mark.line + 2)
            _line_map(value_node, key, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            key = f"{path}[{index}]"
            lines[key] = item.start_mark.line + 2
            _line_map(item, key, lines)


def load_yaml(front: str) -> tuple[Any, dict[str, int]]:
    loader = _RecordLoader(front)
    try:
        node = loader.get_single_node()
        lines: dict[str, int] = {}
        if node is not None:
            _line_map(node, "", lines)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 2}, column {mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or "not valid YAML"
        raise SkipRecord(f"malformed YAML{where}: {problem}") from exc
    except yaml.YAMLError as exc:
        raise SkipRecord(f"malformed YAML: {exc}") from exc
    except RecursionError as exc:
        raise SkipRecord("malformed YAML: the front matter is nested too deeply") from exc
    finally:
        loader.dispose()
    return data, lines
