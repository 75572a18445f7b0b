"""The `face-emotion` command: tools around the pipeline (the pipeline itself runs with `dvc repro`)."""

from __future__ import annotations

import argparse
import sys

from face_emotion.errors import UserError
from face_emotion.fer_csv import import_fer2013_csv


def _import_csv(args: argparse.Namespace) -> int:
    result = import_fer2013_csv(args.table, args.out)
    print(f"wrote {result['written']} faces to {args.out}: {result['per_folder']}")
    for reason in result["skipped"]:
        print(f"skipped {reason}", file=sys.stderr)
    if result["skipped"]:
        print(f"{len(result['skipped'])} rows skipped", file=sys.stderr)
    return 0 if result["written"] else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="face-emotion", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    importer = commands.add_parser("import-fer2013-csv", help="fer2013.csv (emotion,pixels,Usage) to image folders")
    importer.add_argument("table", help="path of fer2013.csv")
    importer.add_argument("out", help="folder to write <split>/<class>/*.png into, e.g. data_local/fer2013")
    importer.set_defaults(handler=_import_csv)
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
