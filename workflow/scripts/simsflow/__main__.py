"""Command line: ``python -m simsflow <command>`` (run from workflow/scripts on sys.path)."""

from __future__ import annotations

import argparse
import sys

from .errors import SimsflowError
from .sheets import DEFAULT_BATCH_SIZE


def _simulate(args) -> None:
    from .simulate.demo import write_study

    write_study(args.study, args.out, seed=args.seed)
    print(f"wrote demo study '{args.study}' to {args.out}")


def _sheet(args) -> None:
    from pathlib import Path

    from .io.tables import read_text_tsv, write_tsv
    from .sheets import build_sheet, parse_constants

    out = Path(args.out)
    previous = read_text_tsv(out) if out.is_file() else None
    sheet = build_sheet(
        args.folder,
        args.pattern,
        args.polarity,
        label=args.label,
        constants=parse_constants(args.set),
        batch_size=args.batch_size,
        previous=previous,
    )
    write_tsv(sheet, out)
    batches = f", {sheet['batch'].nunique()} batches" if "batch" in sheet.columns else ""
    other = sheet.attrs.get("other_polarity", 0)
    left_out = (
        f"; {other} export(s) of the other polarity left out (--polarity {args.polarity}: one "
        "study holds one polarity)"
        if other
        else ""
    )
    print(
        f"wrote {len(sheet)} rows ({sheet['sample'].nunique()} samples{batches}) to "
        f"{args.out}{left_out}"
    )


def _verify(args) -> int:
    from .archive import verify_archive

    problems = verify_archive(args.archive)
    for problem in problems:
        print(f"{args.archive}: {problem}", file=sys.stderr)
    if not problems:
        print(f"{args.archive}: every file matches its manifest")
    return 1 if problems else 0


def _config_doc(args) -> None:
    from pathlib import Path

    from .schemadoc import config_reference, with_reference

    reference = config_reference(Path(__file__).resolve().parents[2] / "schemas")
    if args.update is None:
        print(reference, end="")
        return
    readme = Path(args.update)
    text = readme.read_text(encoding="utf-8")
    readme.write_text(with_reference(text, reference, readme), encoding="utf-8")
    print(f"updated the reference in {readme}")


def _extract(args) -> None:
    from .archive import extract_archive

    written = extract_archive(args.archive, args.into)
    print(f"{args.archive}: verified, {len(written)} files unpacked into {args.into}")


def main(argv: list[str] | None = None) -> int:
    """Run one command of the command line; returns the exit status (1 on a SimsflowError)."""
    parser = argparse.ArgumentParser(prog="simsflow", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    sim = commands.add_parser(
        "simulate", help="write a simulated demo study (raw exports, sheet, mass list, truth)"
    )
    sim.add_argument("--study", required=True, choices=["lithium", "cathode", "cathode_images"])
    sim.add_argument("--out", required=True, help="output directory")
    sim.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    sim.set_defaults(func=_simulate)
    sheet = commands.add_parser(
        "sheet", help="write a sample sheet from a folder of exports (paths relative to it)"
    )
    sheet.add_argument("folder", help="the study's data_dir holding the exports")
    sheet.add_argument("--out", required=True, help="sample sheet to write (TSV)")
    sheet.add_argument(
        "--pattern",
        help="regular expression with named groups sample and spot (and optional others) "
        "matched against each file's path without extension; default: <sample>/<spot>.txt",
    )
    sheet.add_argument(
        "--polarity", choices=["negative", "positive"], help="keep only exports of this polarity"
    )
    sheet.add_argument(
        "--label",
        metavar="GROUP",
        help="copy this named group of the pattern (or sample) into the label column",
    )
    sheet.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="COLUMN=VALUE",
        help="a column with one value on every row, e.g. --set role=train (repeatable)",
    )
    sheet.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        metavar="N",
        help="put consecutive samples into batches of about N spectra (a job per batch and "
        f"stage; default {DEFAULT_BATCH_SIZE}; 0: no batch column). Samples already in --out "
        "keep their batch",
    )
    sheet.set_defaults(func=_sheet)
    verify = commands.add_parser("verify", help="re-check an archive against its manifest")
    verify.add_argument("archive", help="archive/<study>-<tag>.tar.gz")
    verify.set_defaults(func=_verify)
    doc = commands.add_parser(
        "config-doc", help="print config/README.md's configuration reference (from the schemas)"
    )
    doc.add_argument("--update", metavar="README", help="replace the reference in this file")
    doc.set_defaults(func=_config_doc)

    extract = commands.add_parser(
        "extract", help="unpack an archive into a folder, only if it verifies"
    )
    extract.add_argument("archive", help="archive/<study>-<tag>.tar.gz")
    extract.add_argument("--into", required=True, help="folder to unpack into")
    extract.set_defaults(func=_extract)
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except SimsflowError as err:
        print(f"simsflow: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
