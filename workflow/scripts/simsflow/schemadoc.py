"""The configuration reference of config/README.md, written from the JSON schemas of config.yaml,
the sample sheet and the mass list, so that the reference says what validation enforces."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from .config import load_schema
from .errors import SimsflowError

# the line of config/README.md after which the reference is generated (`simsflow config-doc`)
MARKER = "<!-- The reference below is generated from workflow/schemas: bin/simsflow config-doc -->"


@dataclass(frozen=True)
class SchemaKey:
    """One documented key: its path, what it holds, its default (or that it is required)."""

    path: str
    kind: str
    default: str
    description: str


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1].replace("_", " ")


def _kind(node: dict) -> str:
    """A schema node's type in words: one of the enum values, a list of ..., a map of ..."""
    if "$ref" in node:
        return _ref_name(node["$ref"])
    if "enum" in node:
        return "one of " + ", ".join(f"`{v}`" if v != "" else "empty" for v in node["enum"])
    types = node.get("type", "any")
    types = types if isinstance(types, list) else [types]
    words = []
    for kind in types:
        if kind == "array" and isinstance(node.get("items"), dict):
            words.append(f"list of {_kind(node['items'])}")
        elif kind == "object" and isinstance(node.get("additionalProperties"), dict):
            words.append(f"map of name to {_kind(node['additionalProperties'])}")
        else:
            words.append(kind)
    return " or ".join(words)


def _default(node: dict, required: bool) -> str:
    if required:
        return "required"
    if "default" not in node:
        return ""
    if node["default"] == "":
        return "empty"
    text = yaml.safe_dump(node["default"], default_flow_style=True, sort_keys=False, width=1000)
    return f"`{text.strip().removesuffix('...').strip()}`"


def _cell(text: str) -> str:
    """Text for a table cell: one line, no column break, no <name> taken for an HTML tag."""
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text.replace("<", "&lt;").replace(">", "&gt;")


def schema_keys(node: dict, prefix: str = "") -> list[SchemaKey]:
    """Every property of ``node``, depth first, with its sub-properties as dotted paths (``[]``
    for the items of a list); a ``$ref`` is named, not followed (it has a table of its own)."""
    keys = []
    required = set(node.get("required", []))
    for name, sub in node.get("properties", {}).items():
        path = f"{prefix}{name}"
        keys.append(
            SchemaKey(path, _kind(sub), _default(sub, name in required), sub.get("description", ""))
        )
        keys.extend(schema_keys(sub, f"{path}."))
        items = sub.get("items")
        if isinstance(items, dict) and "properties" in items:
            keys.extend(schema_keys(items, f"{path}[]."))
    return keys


def key_table(keys: list[SchemaKey], heading: str) -> str:
    """A Markdown table of ``keys`` (key, type, default, meaning)."""
    rows = [f"| {heading} | type | default | meaning |", "|---|---|---|---|"]
    rows += [
        f"| `{k.path}` | {_cell(k.kind)} | {_cell(k.default)} | {_cell(k.description)} |"
        for k in keys
    ]
    return "\n".join(rows)


def config_reference(schemas: Path) -> str:
    """The reference part of config/README.md, from the schemas in ``schemas``."""
    config = load_schema(schemas / "config.schema.yaml")
    sheet = load_schema(schemas / "samples.schema.yaml")
    mass_list = load_schema(schemas / "mass_list.schema.yaml")
    defs = config["$defs"]
    sections = [
        (
            "### config.yaml, top level",
            "",
            key_table(schema_keys(config), "key"),
        ),
        (
            "### A study (`studies.<name>`)",
            _cell(defs["study"]["description"]),
            key_table(schema_keys(defs["study"]), "key"),
        ),
        (
            "### A scaling step",
            "An entry of a chain under `scaling.methods.<name>`, `classification.scaling` or "
            "`degradation.scaling`, e.g. `{method: minmax, axis: ion}`; the other keys belong "
            "to the method named before the dash.",
            key_table(schema_keys(defs["scaling_step"]), "key"),
        ),
        (
            "### Sample sheet columns (`workflow/schemas/samples.schema.yaml`)",
            _cell(sheet["description"]),
            key_table(schema_keys(sheet), "column"),
        ),
        (
            "### Mass list columns (`workflow/schemas/mass_list.schema.yaml`)",
            _cell(mass_list.get("description", "")),
            key_table(schema_keys(mass_list), "column"),
        ),
    ]
    parts = [MARKER, ""]
    for heading, intro, table in sections:
        parts += [heading, ""] + ([intro, ""] if intro else []) + [table, ""]
    return "\n".join(parts)


def with_reference(readme: str, reference: str, file: str | Path = "config/README.md") -> str:
    """``readme`` (the text of ``file``) with everything from the marker line on replaced by
    ``reference``."""
    head, found, _ = readme.partition(MARKER)
    if not found:
        raise SimsflowError(
            "no line marks where the generated reference starts",
            file=file,
            hint=f"add the line {MARKER} where it should go",
        )
    return head + reference
