"""Configuration and sample sheets, validated against the JSON schemas in workflow/schemas.

Validation happens once, when the workflow starts, and stops it with one message that names the
file, the line and the column (for YAML, the key path) before any job runs. Defaults are filled
from the schemas, so every later step sees complete settings.
"""

from __future__ import annotations

import copy
import csv
import io
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import jsonschema
import pandas as pd
import yaml

from .errors import ConfigError

IMAGE_SUFFIXES = (".imzml", ".ita")


def load_schema(path: str | Path) -> dict:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _fill_defaults(instance: dict, props: dict) -> dict:
    """Give ``instance`` the schema default of every property it lacks (in place)."""
    for name, sub in props.items():
        if isinstance(sub, dict) and "default" in sub and name not in instance:
            instance[name] = copy.deepcopy(sub["default"])
    return instance


def _with_defaults(validator_class):
    """A validator that fills in schema defaults for absent properties before checking them."""
    check_properties = validator_class.VALIDATORS["properties"]

    def properties(validator, props, instance, schema):
        if validator.is_type(instance, "object"):
            _fill_defaults(instance, props)
        yield from check_properties(validator, props, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": properties})


_Validator = _with_defaults(jsonschema.Draft202012Validator)


def _first_error(data, schema):
    errors = list(_Validator(schema).iter_errors(data))
    if not errors:
        return None
    return min(errors, key=lambda e: (list(map(str, e.absolute_path)), e.message))


def _key_path(error) -> list[str]:
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        path.append(missing)
    if error.validator == "additionalProperties" and "'" in error.message:
        path.append(error.message.split("'")[1])
    return path


def yaml_line(text: str, keys: Sequence[str]) -> int | None:
    """1-based line of a key path in a YAML document (None if absent)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    line = None
    for key in keys:
        if isinstance(node, yaml.MappingNode):
            match = next((kv for kv in node.value if kv[0].value == key), None)
            if match is None:
                return line
            line = match[0].start_mark.line + 1
            node = match[1]
        elif isinstance(node, yaml.SequenceNode) and key.isdigit() and int(key) < len(node.value):
            node = node.value[int(key)]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _value_at(data, keys):
    for key in keys:
        if isinstance(data, dict) and key in data:
            data = data[key]
        elif isinstance(data, list) and key.isdigit() and int(key) < len(data):
            data = data[int(key)]
        else:
            return _MISSING
    return data


_MISSING = object()


def _locate(keys, error, configfiles) -> tuple[str | None, int | None]:
    """The config file (and line) that set the offending value.

    Several files may be merged (``--configfile`` overlays): the one whose value at the key path
    is the offending one is named; for a missing key, the last file naming its parent.
    """
    found: list[tuple[str, int | None]] = []
    for candidate in [str(f) for f in configfiles]:
        try:
            text = Path(candidate).read_text(encoding="utf-8")
            data = yaml.safe_load(text)
        except (OSError, yaml.YAMLError):
            continue
        value = _value_at(data, keys)
        if error.validator == "required":
            parent = _value_at(data, keys[:-1])
            if parent is not _MISSING:
                found.append((candidate, yaml_line(text, keys[:-1])))
        elif error.validator == "additionalProperties":
            if value is not _MISSING:
                return candidate, yaml_line(text, keys)
        elif value is not _MISSING and value == error.instance:
            return candidate, yaml_line(text, keys)
    return found[-1] if found else (None, None)


def validate_config(config: dict, schema: dict, configfiles: Iterable[str | Path] = ()) -> dict:
    """Return a copy of the config with defaults filled; ConfigError on the first problem."""
    data = copy.deepcopy(config)
    error = _first_error(data, schema)
    if error is None:
        return data
    keys = _key_path(error)
    file, line = _locate(keys, error, configfiles)
    raise ConfigError(
        error.message,
        file=file or "config",
        line=line,
        column=".".join(keys) or None,
        hint="see workflow/schemas/config.schema.yaml for the allowed keys and values",
    )


def read_tsv_rows(path: str | Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and (line number, row) pairs of a tab-separated text file, every cell as text."""
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as err:
        raise ConfigError(f"cannot read: {err.strerror}", file=source) from None
    if b"\x00" in raw:
        raise ConfigError("binary data, not a tab-separated text file", file=source)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t", strict=True)
    rows: list[tuple[int, dict[str, str]]] = []
    header: list[str] | None = None
    try:
        for fields in reader:
            line = reader.line_num
            if not fields or all(not f.strip() for f in fields) or fields[0].startswith("#"):
                continue
            fields = [f.strip() for f in fields]
            if header is None:
                header = fields
                dup = {h for h in header if header.count(h) > 1}
                if dup or "" in header:
                    raise ConfigError(
                        "empty or repeated column name",
                        file=source,
                        line=line,
                        column=sorted(dup)[0] if dup else "",
                    )
                continue
            if len(fields) != len(header):
                raise ConfigError(
                    f"{len(fields)} cells, but the header has {len(header)} columns",
                    file=source,
                    line=line,
                    hint="cells are separated by tabs; a spreadsheet export may use commas",
                )
            rows.append((line, dict(zip(header, fields, strict=True))))
    except csv.Error as err:
        raise ConfigError(f"not a valid TSV: {err}", file=source, line=reader.line_num) from None
    if header is None:
        raise ConfigError("empty file: no header line", file=source)
    return header, rows


# the keywords of a row schema whose columns can be checked one at a time
_COLUMN_KEYWORDS = {"$schema", "$id", "title", "description", "type", "required", "properties"}


def _independent_columns(schema: dict) -> bool:
    """True if a row is valid exactly when each of its cells is (no keyword relates two)."""
    return set(schema) <= _COLUMN_KEYWORDS and schema.get("type", "object") == "object"


def _first_bad_row(rows, schema: dict) -> int | None:
    """Index of the first row with a cell the schema refuses or a missing column that is
    required (or whose default the schema refuses), each distinct cell value checked once (a
    sheet of thousands of rows has few distinct values in most columns); None if every row is
    valid, 0 if a cell cannot be compared."""
    # one validator for every cell; cells are checked alone, so no defaults are filled in
    cells = jsonschema.Draft202012Validator({k: v for k, v in schema.items() if k != "required"})
    bad: set[tuple[str, type, object]] = set()
    checked: set[tuple[str, type, object]] = set()
    try:
        for name in schema.get("properties", {}):
            for _, row in rows:
                if name not in row:
                    continue
                key = (name, type(row[name]), row[name])  # 1 and True are different cells
                if key not in checked:
                    checked.add(key)
                    if not cells.is_valid({name: row[name]}):
                        bad.add(key)
    except TypeError:  # an unhashable cell: leave it to the row-by-row check
        return 0
    # a row without a column gets its default, which the row-by-row check validates too
    absent_is_bad = list(schema.get("required", [])) + [
        name
        for name, sub in schema.get("properties", {}).items()
        if isinstance(sub, dict) and "default" in sub and not cells.is_valid({name: sub["default"]})
    ]
    for k, (_, row) in enumerate(rows):
        if any(name not in row for name in absent_is_bad) or any(
            (name, type(value), value) in bad for name, value in row.items()
        ):
            return k
    return None


def validate_rows(rows, schema: dict, source: str) -> list[tuple[int, dict]]:
    """Validate each row against a row schema (cells are scalars); defaults filled, first
    problem raised.

    With a schema of independent columns (``_independent_columns``) each distinct cell value
    is checked once and only the first row with a problem is validated whole, so the error is
    the one a row-by-row check raises, at a fraction of its cost for a long sheet.
    """
    if _independent_columns(schema):
        first = _first_bad_row(rows, schema)
        if first is None:
            props = schema.get("properties", {})
            return [(line, _fill_defaults(dict(row), props)) for line, row in rows]
        _validate_each(rows[first : first + 1], schema, source)  # raises: the rows before pass
    return _validate_each(rows, schema, source)


def _validate_each(rows, schema: dict, source: str) -> list[tuple[int, dict]]:
    """Validate row by row (defaults filled by the validator), raising at the first problem."""
    out = []
    for line, row in rows:
        data = dict(row)
        error = _first_error(data, schema)
        if error is not None:
            keys = _key_path(error)
            raise ConfigError(
                error.message,
                file=source,
                line=line,
                column=keys[0] if keys else None,
            )
        out.append((line, data))
    return out


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def read_sample_sheet(
    path: str | Path,
    schema: dict,
    *,
    data_dir: str | Path,
    default_polarity: str = "negative",
    files_may_be_missing: bool = False,
) -> pd.DataFrame:
    """Read and check a sample sheet; return it with a resolved ``path`` column.

    Checks beyond the schema: (sample, spot) unique; a label on every train row and none on
    predict rows; each file relative, inside ``data_dir`` (symlinks resolved) and present
    (unless the files are produced by the workflow, as for the demo).
    """
    source = str(path)
    header, rows = read_tsv_rows(path)
    if not rows:
        raise ConfigError("no rows: the sheet lists no spectrum", file=source)
    rows = validate_rows(rows, schema, source)
    root = Path(data_dir).resolve()
    seen: dict[tuple[str, str], int] = {}
    polarity_of: dict[str, tuple[str, int]] = {}
    kind_of: dict[str, tuple[str, int]] = {}
    records = []
    for line, row in rows:
        key = (row["sample"], row["spot"])
        if key in seen:
            raise ConfigError(
                f"duplicate sample '{key[0]}' spot '{key[1]}' (first on line {seen[key]})",
                file=source,
                line=line,
                column="spot",
                hint="each (sample, spot) must appear once",
            )
        seen[key] = line
        if row["role"] == "train" and not row["label"]:
            raise ConfigError(
                "a train row needs a label (its class)", file=source, line=line, column="label"
            )
        if row["role"] == "predict" and row["label"]:
            raise ConfigError(
                f"a predict row must not carry a label (found '{row['label']}')",
                file=source,
                line=line,
                column="label",
                hint="predict rows are unknowns; put the class of references on train rows",
            )
        rel = Path(row["file"])
        if rel.is_absolute() or ".." in rel.parts:
            raise ConfigError(
                f"path '{row['file']}' leaves the data directory",
                file=source,
                line=line,
                column="file",
                hint=f"give paths relative to {data_dir} without '..'",
            )
        full = Path(data_dir) / rel
        if not _inside(full.resolve(), root):
            raise ConfigError(
                f"path '{row['file']}' points outside the data directory (symlink)",
                file=source,
                line=line,
                column="file",
                hint=f"copy the file into {data_dir}",
            )
        kind = row["kind"] or (
            "image" if full.is_dir() or full.suffix.lower() in IMAGE_SUFFIXES else "spectrum"
        )
        exists = full.is_dir() if kind == "image" and not full.suffix else full.is_file()
        if not files_may_be_missing and not exists:
            raise ConfigError(
                f"file '{full}' does not exist",
                file=source,
                line=line,
                column="file",
                hint=f"paths are relative to the study's data_dir ({data_dir})",
            )
        record = dict(row)
        record["polarity"] = row["polarity"] or default_polarity
        record["kind"] = kind
        first_kind = kind_of.setdefault(row["sample"], (kind, line))
        if first_kind[0] != kind:
            raise ConfigError(
                f"sample '{row['sample']}' holds {first_kind[0]}s (line {first_kind[1]}) and "
                f"{kind}s",
                file=source,
                line=line,
                column="kind",
                hint="give images and spectra different sample names",
            )
        first = polarity_of.setdefault(row["sample"], (record["polarity"], line))
        if first[0] != record["polarity"]:
            raise ConfigError(
                f"sample '{row['sample']}' is {first[0]} on line {first[1]} but "
                f"{record['polarity']} here",
                file=source,
                line=line,
                column="polarity",
                hint="give spectra of the other polarity their own sample name",
            )
        record["path"] = os.path.normpath(str(full))
        record["sheet_line"] = line
        records.append(record)
    frame = pd.DataFrame.from_records(records)
    columns = [*header, *[c for c in frame.columns if c not in header]]
    return frame[columns]
