"""Configuration and sample sheets, validated against the JSON schemas in workflow/schemas.

Validation happens once, when the workflow starts, and stops it with one message that names the
file, the line and the column (for YAML, the key path) before any job runs. Defaults are filled
from the schemas, so every later step sees complete settings.
"""

from __future__ import annotations

import copy
import difflib
import errno
import os
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path

import jsonschema
import pandas as pd
import yaml

from .errors import ConfigError, shorten
from .io.text import (
    decode_text,
    refuse_repeated_header,
    refuse_title_line,
    without_empty_tail,
)
from .names import (
    ID_HINT,
    TWIN_HINT,
    encoding_twin,
    encoding_twin_message,
    id_problem,
)

IMAGE_SUFFIXES = (".imzml", ".ita")


def load_schema(path: str | Path) -> dict:
    """A JSON schema from its YAML file (safe_load)."""
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _fill_defaults(instance: dict, props: dict) -> dict:
    """Give ``instance`` the schema default of every property it lacks (in place)."""
    for name, sub in props.items():
        if isinstance(sub, dict) and "default" in sub and name not in instance:
            default = sub["default"]
            # a sheet row fills several text cells: deepcopy returns those themselves anyway
            instance[name] = default if isinstance(default, str) else copy.deepcopy(default)
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
    # an unknown key before a missing one at the same place: a misspelled key is both
    return min(
        errors,
        key=lambda e: (
            list(map(str, e.absolute_path)),
            e.validator != "additionalProperties",
            e.message,
        ),
    )


def _unknown_key(error) -> str | None:
    """The first key an additionalProperties error refuses (None if not such an error)."""
    if error.validator != "additionalProperties" or not isinstance(error.instance, dict):
        return None
    known = error.schema.get("properties", {})
    unknown = sorted(str(k) for k in error.instance if k not in known)
    return unknown[0] if unknown else None


def _message(error) -> str:
    """The error's message, a misspelled key with the key it is closest to; bounded in
    length (a huge value is never rendered whole)."""
    unknown = _unknown_key(error)
    if unknown is None:
        return shorten(error.message)
    known = list(error.schema.get("properties", {}))
    close = difflib.get_close_matches(unknown, known, n=1, cutoff=0.6)
    if close:
        return f"unknown key {shorten(unknown)!r} (did you mean {close[0]!r}?)"
    return f"unknown key {shorten(unknown)!r} (known here: {', '.join(known)})"


def _key_path(error) -> list[str]:
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        path.append(missing)
    unknown = _unknown_key(error)
    if unknown is not None:
        path.append(unknown)
    return path


# a configuration is a few hundred values; anchors and aliases ("billion laughs") can make a
# file of a few lines expand to billions, which validation and messages would walk and render
MAX_CONFIG_VALUES = 100_000
MAX_CONFIG_CHARACTERS = 10_000_000


def _expanded_sizes(node, sizes: dict) -> tuple[int, int]:
    """(values, characters) of a composed YAML node with every alias expanded, computed once
    per node (an alias is the anchored node itself), so in time linear in the file."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    sizes[id(node)] = (MAX_CONFIG_VALUES + 1, 0)  # a recursive alias expands without end
    if isinstance(node, yaml.ScalarNode):
        size = (1, len(node.value))
    else:
        children = node.value
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        values, chars = 1, 0
        for child in children:
            v, c = _expanded_sizes(child, sizes)
            values, chars = values + v, chars + c
        size = (values, chars)
    sizes[id(node)] = size
    return size


def _too_big(size: tuple[int, int]) -> bool:
    return size[0] > MAX_CONFIG_VALUES or size[1] > MAX_CONFIG_CHARACTERS


def check_yaml_size(path: str | Path) -> None:
    """Refuse a YAML file whose anchors and aliases expand beyond MAX_CONFIG_VALUES values or
    MAX_CONFIG_CHARACTERS characters, naming the key whose value is too big.

    The file is composed, never constructed: composing is linear in the text, while
    constructing expands merge keys (``<<: [*a, *a]``) and Snakemake's config merge copies
    every aliased mapping, both exponentially. Unreadable YAML is left to its loader."""
    source = str(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(MAX_CONFIG_CHARACTERS + 1)
        text = head.decode("utf-8", errors="replace")
        if len(head) > MAX_CONFIG_CHARACTERS:
            raise ConfigError(
                f"{len(head) - 1:,}+ bytes: far too big for a configuration", file=source
            )
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except (OSError, yaml.YAMLError, RecursionError):
        return
    if root is None:
        return
    sizes: dict = {}
    try:
        if not _too_big(_expanded_sizes(root, sizes)):
            return
    except RecursionError:
        raise ConfigError("values nested too deeply for a configuration", file=source) from None
    keys, line, node = [], root.start_mark.line + 1, root
    while isinstance(node, yaml.MappingNode):  # down to the key whose value alone is too big
        pairs = [(k, v) for k, v in node.value if _too_big(sizes[id(v)])]
        if not pairs or not isinstance(pairs[0][0], yaml.ScalarNode) or pairs[0][0].value == "<<":
            break  # the key names the value; a merge key '<<' is part of it
        keys.append(pairs[0][0].value)
        line, node = pairs[0][0].start_mark.line + 1, pairs[0][1]
    raise ConfigError(
        f"the value expands to more than {MAX_CONFIG_VALUES:,} values or "
        f"{MAX_CONFIG_CHARACTERS:,} characters (YAML anchors and aliases repeat it)",
        file=source,
        line=line,
        column=shorten(".".join(keys), 120) or None,
        hint="write the settings out without nested aliases (&name / *name / <<)",
    )


def check_config_files(paths: Iterable[str | Path]) -> None:
    """``check_yaml_size`` of each config file: run before Snakemake loads them (its loader
    and its config merge expand aliases; a test runs such a file through Snakemake)."""
    for path in paths:
        check_yaml_size(path)


def check_config_size(config: dict, configfiles: Iterable[str | Path] = ()) -> None:
    """Refuse a loaded config larger than MAX_CONFIG_VALUES values or MAX_CONFIG_CHARACTERS
    characters (aliases counted every time they repeat), before anything walks it whole;
    the config file that makes it so is named with the line (``check_yaml_size``)."""
    values, chars = 0, 0
    stack = [config]
    while stack:
        value = stack.pop()
        values += 1
        if isinstance(value, str):
            chars += len(value)
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            stack.extend(value)
        if values > MAX_CONFIG_VALUES or chars > MAX_CONFIG_CHARACTERS:
            for path in configfiles:
                check_yaml_size(path)
            raise ConfigError(
                f"the configuration expands to more than {MAX_CONFIG_VALUES:,} values or "
                f"{MAX_CONFIG_CHARACTERS:,} characters",
                file="config",
                hint="write the settings out without nested YAML aliases (&name / *name / <<)",
            )


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
    configfiles = list(configfiles)
    check_config_size(config, configfiles)
    data = copy.deepcopy(config)
    error = _first_error(data, schema)
    if error is None:
        return data
    keys = _key_path(error)
    file, line = _locate(keys, error, configfiles)
    raise ConfigError(
        _message(error),
        file=file or "config",
        line=line,
        column=".".join(keys) or None,
        hint="see workflow/schemas/config.schema.yaml for the allowed keys and values",
    )


def _unquoted(cell: str) -> str:
    """A cell without the quotes a spreadsheet puts around a whole cell (``"a, b"`` ->
    ``a, b``, ``""`` inside -> ``"``); any other ``"`` is an ordinary character."""
    if len(cell) >= 2 and cell[0] == cell[-1] == '"':
        return cell[1:-1].replace('""', '"')
    return cell


def _refuse_other_separators(header: list[str], line: int, source: str) -> None:
    """A one-column header holding commas or semicolons: a CSV file, not tab-separated."""
    if len(header) == 1:
        for mark, name in ((",", "commas"), (";", "semicolons")):
            if mark in header[0]:
                raise ConfigError(
                    f"expected tab-separated columns; found {name}",
                    file=source,
                    line=line,
                    hint="save the table as tab-separated text (TSV), not CSV",
                )


def refuse_miscased_columns(header: list[str], known, source: str, line: int | None) -> None:
    """A header cell naming a known column but for its case (``Sample``, ``File``) is refused:
    read as another column, the known one would be missing or silently left at its default."""
    by_lower = {name.lower(): name for name in known}
    for cell in header:
        name = by_lower.get(cell.lower())
        if name is not None and cell != name and name not in header:
            raise ConfigError(
                f"column '{cell}' is column '{name}' written in other case",
                file=source,
                line=line,
                column=cell,
                hint=f"column names are case-sensitive: rename it '{name}'",
            )


def read_tsv_rows(
    path: str | Path, columns=()
) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and (line number, row) pairs of a tab-separated text file, every cell as text.

    Each non-empty line that is not a ``#`` comment is one row: cells are split at tabs and a
    quote never joins lines (csv's quoting folded the rows between a stray ``"`` and the next
    into one cell). UTF-16 (Excel's "Unicode text") and CR-only line ends are read. A header
    cell naming one of ``columns`` (the known ones) in other case is refused.
    """
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as err:
        raise ConfigError(f"cannot read: {err.strerror}", file=source) from None
    text = decode_text(
        raw,
        source,
        "a tab-separated text file",
        ConfigError,
        hint="save the table as tab-separated text (UTF-8)",
    )
    lines = []
    for line, content in enumerate(text.split("\n"), start=1):
        if not content.strip() or content.lstrip().startswith("#"):
            continue
        fields = [f.strip() for f in content.split("\t")]
        if '"' in content:
            fields = [_unquoted(f) for f in fields]
        lines.append((line, fields))
    if not lines:
        raise ConfigError("empty file: no header line", file=source)
    header_line, header = lines[0][0], without_empty_tail(lines[0][1])
    if len(lines) > 1:
        refuse_title_line(header, header_line, lines[1][1], source, ConfigError)
    _refuse_other_separators(header, header_line, source)
    dup = {h for h in header if header.count(h) > 1}
    if dup or "" in header:
        raise ConfigError(
            "empty or repeated column name",
            file=source,
            line=header_line,
            column=sorted(dup)[0] if dup else "",
        )
    refuse_miscased_columns(header, columns, source, header_line)
    rows: list[tuple[int, dict[str, str]]] = []
    for line, fields in lines[1:]:
        fields = without_empty_tail(fields, len(header))
        refuse_repeated_header(header, header_line, fields, line, source, ConfigError)
        if len(fields) != len(header):
            raise ConfigError(
                f"{len(fields)} cells, but the header has {len(header)} columns",
                file=source,
                line=line,
                hint="cells are separated by tabs; a spreadsheet export may use commas",
            )
        rows.append((line, dict(zip(header, fields, strict=True))))
    return header, rows


# the keywords of a row schema whose columns can be checked one at a time
_COLUMN_KEYWORDS = {"$schema", "$id", "title", "description", "type", "required", "properties"}


def _independent_columns(schema: dict) -> bool:
    """True if a row is valid exactly when each of its cells is (no keyword relates two)."""
    return set(schema) <= _COLUMN_KEYWORDS and schema.get("type", "object") == "object"


# the keywords ``_plainly_valid`` decides for a text cell; any other sends it to jsonschema
_TEXT_KEYWORDS = {"description", "title", "default", "$comment", "type", "minLength", "enum"}


def _plainly_valid(column: dict, cell) -> bool:
    """True if the text ``cell`` is valid under the column schema ``column`` by its type,
    minLength and enum alone (a sheet's thousands of distinct file names, each of which a
    jsonschema validation took 40 µs); False means "ask jsonschema"."""
    return (
        isinstance(cell, str)
        and isinstance(column, dict)
        and column.keys() <= _TEXT_KEYWORDS
        and column.get("type", "string") == "string"
        and len(cell) >= column.get("minLength", 0)
        and ("enum" not in column or cell in column["enum"])
    )


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
        for name, column in schema.get("properties", {}).items():
            for _, row in rows:
                if name not in row:
                    continue
                key = (name, type(row[name]), row[name])  # 1 and True are different cells
                if key not in checked:
                    checked.add(key)
                    if not _plainly_valid(column, row[name]) and not cells.is_valid(
                        {name: row[name]}
                    ):
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
                _message(error),
                file=source,
                line=line,
                column=keys[0] if keys else None,
            )
        out.append((line, data))
    return out


def _inside_folder(path: str, root: str) -> bool:
    """Whether ``path`` is ``root`` or under it (both resolved: absolute, normalised)."""
    return path == root or path.startswith(root if root.endswith(os.sep) else root + os.sep)


def _stat(resolved: str) -> os.stat_result | OSError | None:
    """``os.stat`` of a resolved path, as is_dir and is_file see it: a missing file is None
    (False to is_dir and is_file), another OSError (a symlink loop, no permission) is
    returned for the caller to name."""
    try:
        return os.stat(resolved)
    except OSError as err:
        if err.errno in (errno.ENOENT, errno.ENOTDIR, errno.EBADF):
            return None
        return err


def _is(status: os.stat_result | OSError | None, test) -> bool:
    """Path.is_dir or is_file from a ``_stat`` (``test``: stat.S_ISDIR or stat.S_ISREG)."""
    if isinstance(status, OSError):
        raise status
    return status is not None and test(status.st_mode)


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
    predict rows; each file relative, inside ``data_dir`` (symlinks resolved), present and
    listed once (the same file under two names too), an image folder holding exports (unless
    the files are produced by the workflow, as for the demo); one kind and one polarity per
    sample.
    """
    source = str(path)
    header, rows = read_tsv_rows(path, schema.get("properties", {}))
    if not rows:
        raise ConfigError("no rows: the sheet lists no spectrum", file=source)
    rows = validate_rows(rows, schema, source)
    checker = _SheetRows(source, Path(data_dir), default_polarity, files_may_be_missing)
    frame = pd.DataFrame.from_records([checker.record(line, row) for line, row in rows])
    columns = [*header, *[c for c in frame.columns if c not in header]]
    return frame[columns]


class _SheetRows:
    """The checks of a sheet's rows, one row at a time, remembering what earlier rows said."""

    def __init__(self, source: str, data_dir: Path, default_polarity: str, may_be_missing: bool):
        self.source = source
        self.data_dir = data_dir
        self.root = str(data_dir.resolve())
        self.default_polarity = default_polarity
        self.may_be_missing = may_be_missing
        self.seen: dict[tuple[str, str], int] = {}
        self.polarity_of: dict[str, tuple[str, int]] = {}
        self.kind_of: dict[str, tuple[str, int]] = {}
        self.files_seen: dict[tuple[int, int], tuple[int, str]] = {}
        # a sheet names thousands of files in a few folders and few distinct ids: each folder
        # is resolved once and each id checked once
        self.real_folders: dict[str, str] = {}
        self.id_problems: dict[str, str | None] = {}
        self.spellings: dict[str, dict[str, tuple[str, int]]] = {}  # encoding_twin's memory

    def error(self, message: str, line: int, column: str, hint: str | None = None):
        return ConfigError(message, file=self.source, line=line, column=column, hint=hint)

    def record(self, line: int, row: dict) -> dict:
        """The row, checked, with its polarity, kind, resolved path and sheet line."""
        for column in ("sample", "spot"):
            value = row[column]
            if value not in self.id_problems:
                self.id_problems[value] = id_problem(value)
            problem = self.id_problems[value]
            if problem is not None:
                raise self.error(f"{column} {value!r} {problem}", line, column, ID_HINT)
            twin = encoding_twin(value, line, self.spellings.setdefault(column, {}))
            if twin is not None:
                raise self.error(
                    encoding_twin_message(column, value, twin), line, column, TWIN_HINT
                )
        self._unique(line, row)
        self._label(line, row)
        full, status = self._inside(line, row)
        kind = row["kind"] or (
            "image"
            if _is(status, stat.S_ISDIR) or full.suffix.lower() in IMAGE_SUFFIXES
            else "spectrum"
        )
        if not self.may_be_missing:
            self._file(line, row, full, kind, status)
        record = dict(row)
        record["polarity"] = row["polarity"] or self.default_polarity
        record["kind"] = kind
        self._one_per_sample(line, row["sample"], "kind", kind, self.kind_of)
        self._one_per_sample(line, row["sample"], "polarity", record["polarity"], self.polarity_of)
        record["path"] = os.path.normpath(str(full))
        record["sheet_line"] = line
        return record

    def _unique(self, line: int, row: dict) -> None:
        key = (row["sample"], row["spot"])
        if key in self.seen:
            raise self.error(
                f"duplicate sample '{key[0]}' spot '{key[1]}' (first on line {self.seen[key]})",
                line,
                "spot",
                "each (sample, spot) must appear once",
            )
        self.seen[key] = line

    def _label(self, line: int, row: dict) -> None:
        if row["role"] == "train" and not row["label"]:
            raise self.error("a train row needs a label (its class)", line, "label")
        if row["role"] == "predict" and row["label"]:
            raise self.error(
                f"a predict row must not carry a label (found '{row['label']}')",
                line,
                "label",
                "predict rows are unknowns; put the class of references on train rows",
            )

    def _inside(self, line: int, row: dict) -> tuple[Path, os.stat_result | OSError | None]:
        """The row's file, refused if it leaves the data directory (by '..' or a symlink),
        and its ``_stat``."""
        rel = Path(row["file"])
        if rel.is_absolute() or ".." in rel.parts:
            raise self.error(
                f"path '{row['file']}' leaves the data directory",
                line,
                "file",
                f"give paths relative to {self.data_dir} without '..'",
            )
        full = self.data_dir / rel
        real = self._resolved(str(full))
        status = _stat(real)
        if not _inside_folder(real, self.root):
            raise self.error(
                f"path '{row['file']}' points outside the data directory (symlink)",
                line,
                "file",
                f"copy the file into {self.data_dir}",
            )
        if isinstance(status, OSError):  # a symlink loop, a folder without permission
            reason = (status.strerror or str(status)).lower()
            raise self.error(
                f"path '{row['file']}' cannot be looked up: {reason}",
                line,
                "file",
                f"point the link at the export itself, or copy the file into {self.data_dir}",
            )
        return full, status

    def _resolved(self, path: str) -> str:
        """``os.path.realpath(path)`` (what Path.resolve gives), the folder resolved once for
        all its files: a file that is not a symlink resolves to its name in its folder's real
        path (realpath resolves a path one component after the other)."""
        folder, name = os.path.split(path)
        if name in ("", ".", ".."):
            return os.path.realpath(path)
        try:
            if stat.S_ISLNK(os.lstat(path).st_mode):
                return os.path.realpath(path)
        except OSError:  # absent: realpath keeps the name as it is
            pass
        except ValueError:  # a name realpath cannot look up either: its own error
            return os.path.realpath(path)
        real = self.real_folders.get(folder)
        if real is None:
            real = self.real_folders[folder] = os.path.realpath(folder)
        return os.path.join(real, name)

    def _file(self, line: int, row: dict, full: Path, kind: str, status) -> None:
        """The file is there, an image folder holds exports, and no file is listed twice
        (``status``: the file's os.stat, None if there is none)."""
        is_dir = _is(status, stat.S_ISDIR)
        exists = is_dir if kind == "image" and not full.suffix else _is(status, stat.S_ISREG)
        if not exists:
            hint = f"paths are relative to the study's data_dir ({self.data_dir})"
            if "\\" in row["file"]:  # a Windows path: here a backslash is part of a name
                hint = f"write folders with '/', not '\\'; {hint}"
            raise self.error(f"file '{full}' does not exist", line, "file", hint)
        if is_dir and not any(full.glob("*.txt")):
            raise self.error(
                f"folder '{row['file']}' holds no image exports (*.txt)",
                line,
                "file",
                "an image region is a folder of SurfaceLab ion-image exports, an "
                ".imzML or an .ita file; export the images into it or fix the path",
            )
        # the same file under two names (a symlink, a hard link, 'a/../a') counts twice
        first = self.files_seen.setdefault((status.st_dev, status.st_ino), (line, row["file"]))
        if first[0] != line:
            raise self.error(
                f"'{row['file']}' is the same file as '{first[1]}' on line {first[0]}",
                line,
                "file",
                "list each export once; a spectrum listed twice would be counted twice",
            )

    def _one_per_sample(self, line: int, sample: str, column: str, value: str, first_of) -> None:
        """All rows of a sample share one kind (spectra or images) and one polarity."""
        first = first_of.setdefault(sample, (value, line))
        if first[0] == value:
            return
        if column == "kind":
            raise self.error(
                f"sample '{sample}' holds {first[0]}s (line {first[1]}) and {value}s",
                line,
                "kind",
                "give images and spectra different sample names",
            )
        raise self.error(
            f"sample '{sample}' is {first[0]} on line {first[1]} but {value} here",
            line,
            "polarity",
            "give spectra of the other polarity their own sample name",
        )
