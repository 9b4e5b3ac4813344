"""The rate-test table of a degradation study (discharge capacities per sample)."""

from __future__ import annotations

import pandas as pd

from ..config import read_tsv_rows
from ..errors import ConfigError


def read_rate_test(path) -> pd.DataFrame:
    """Rate-test table: sample, capacity_0.1C, capacity_1C (optional), capacity_2C (mAh/g)."""
    source = str(path)
    header, rows = read_tsv_rows(path)
    required = ["sample", "capacity_0.1C", "capacity_2C"]
    missing = [c for c in required if c not in header]
    if missing:
        raise ConfigError(f"missing column(s) {', '.join(missing)}", file=source, line=1)
    records = []
    for line, row in rows:
        record = {"sample": row["sample"]}
        for column in header[1:]:
            try:
                value = float(row[column])
            except ValueError:
                raise ConfigError(
                    f"'{row[column]}' is not a number", file=source, line=line, column=column
                ) from None
            if not value > 0:
                raise ConfigError(
                    f"capacity {value:g} is not positive", file=source, line=line, column=column
                )
            record[column] = value
        records.append(record)
    return pd.DataFrame(records)
