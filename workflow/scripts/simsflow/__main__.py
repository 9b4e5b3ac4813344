"""Command line: ``python -m simsflow <command>`` (run from workflow/scripts on sys.path)."""

from __future__ import annotations

import argparse
import sys

from .errors import SimsflowError


def _simulate(args) -> None:
    from .simulate.demo import write_study

    write_study(args.study, args.out, seed=args.seed)
    print(f"wrote demo study '{args.study}' to {args.out}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="simsflow", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    sim = commands.add_parser(
        "simulate", help="write a simulated demo study (raw exports, sheet, mass list, truth)"
    )
    sim.add_argument("--study", required=True, choices=["lithium", "cathode"])
    sim.add_argument("--out", required=True, help="output directory")
    sim.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    sim.set_defaults(func=_simulate)
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except SimsflowError as err:
        print(f"simsflow: error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
