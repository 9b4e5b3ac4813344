"""model.json on disk: written as plain JSON (never pickle), read back and validated against
``simsflow/data/model.schema.json`` before use. What the document holds, and the classifier
made from it again, is ``simsflow.model``.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema

from ..errors import InputFileError
from .atomic import atomic_write_text


def write_model(path: str | Path, document: dict) -> None:
    """Write a model document as indented, key-sorted JSON (atomically)."""
    atomic_write_text(path, json.dumps(document, indent=1, sort_keys=True) + "\n")


def _schema() -> dict:
    text = resources.files("simsflow").joinpath("data/model.schema.json").read_text("utf-8")
    return json.loads(text)


def read_model(path: str | Path) -> dict:
    """Load and validate a model document (no code is executed, nothing is unpickled)."""
    source = str(path)
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise InputFileError(f"cannot read the model: {err}", file=source) from None
    except json.JSONDecodeError as err:
        raise InputFileError(f"not JSON: {err.msg}", file=source, line=err.lineno) from None
    errors = sorted(
        jsonschema.Draft202012Validator(_schema()).iter_errors(document),
        key=lambda e: list(map(str, e.absolute_path)),
    )
    if errors:
        where = ".".join(map(str, errors[0].absolute_path)) or None
        raise InputFileError(
            f"not a valid simsflow model: {errors[0].message}",
            file=source,
            column=where,
            hint="train it again with this version of simsflow",
        )
    return document
