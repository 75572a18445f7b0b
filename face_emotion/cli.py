"""The `face-emotion` command: tools around the pipeline (the pipeline itself runs with `dvc repro`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Generator
from pathlib import Path

import pandas as pd

from face_emotion.core.errors import UserError
from face_emotion.core.io import CsvRows
from face_emotion.core.stage import interrupt_on_signals
from face_emotion.data.fer_csv import import_fer2013_csv


def _import_csv(args: argparse.Namespace) -> int:
    result = import_fer2013_csv(args.table, args.out)
    print(f"wrote {result['written']} faces to {args.out}: {result['per_folder']}")
    for reason in result["skipped"]:
        print(f"skipped {reason}", file=sys.stderr)
    if result["skipped"]:
        print(f"{len(result['skipped'])} rows skipped", file=sys.stderr)
    if result["stopped"]:
        print(f"error: {args.table}: {result['stopped']}", file=sys.stderr)
        return 2
    return 0 if result["written"] else 1


def _written_as_they_come(tables: Generator[pd.DataFrame], output: Path) -> pd.DataFrame:
    """Every table, written to ``output`` as it comes; a run that stops early (Ctrl-C, an error) keeps the rows it
    wrote in a .partial.csv beside it and says so in its one line."""
    written, sink = [], CsvRows(output)
    try:
        for table in tables:
            sink.add(table)
            written.append(table)
    except (KeyboardInterrupt, UserError) as exc:
        tables.close()  # its workers and progress bar end before the line is printed
        partial = sink.keep_partial()
        kept = f"; the {sink.rows} rows predicted before it are in {partial}" if partial else ""
        raise UserError(f"{'interrupted' if isinstance(exc, KeyboardInterrupt) else exc}{kept}") from None
    except BaseException:
        sink.keep_partial()
        raise
    sink.finish()
    return pd.concat(written, ignore_index=True)


def _predict(args: argparse.Namespace) -> int:
    from face_emotion.predict import (
        PredictOptions,
        check_annotate,
        check_output,
        input_files,
        load_predictor,
        path_text,
        predicted_tables,
    )

    files = input_files(args.paths)
    check_output(args.output, files)
    if not files:
        raise UserError(f"no image or video files in {' '.join(args.paths)}")
    given = {"annotate": args.annotate, "frame_step": args.frame_step, "smooth": args.smooth, "max_faces": args.max_faces,
             "aus": args.aus}
    options = PredictOptions(**{name: value for name, value in given.items() if value is not None})
    with load_predictor(args.model, options.max_faces, args.mask_detector) as predictor:
        if args.annotate is not None:
            check_annotate(args.annotate, predictor)
        table = _written_as_they_come(predicted_tables(predictor, files, options), args.output)
    answered = table[table.emotion != ""]
    frames = len(table.dropna(subset=["frame"]).drop_duplicates(["path", "frame"]))
    in_videos = f" ({frames} video frames analysed)" if frames else ""
    print(f"predicted {len(answered)} faces in {answered.path.nunique()} of {len(files)} files{in_videos} -> {args.output}")
    for reason, count in table.loc[table.emotion == "", "reason"].value_counts().items():
        print(f"  {count} x {reason}", file=sys.stderr)
    escaped = sum(path_text(path) != str(path) for path in files)
    if escaped:
        print(f"  {escaped} file name(s) not valid UTF-8: written with those bytes escaped (\\xNN)", file=sys.stderr)
    if predictor.mask_detector is None:
        print(f"  masked column empty: {predictor.no_mask_detector}", file=sys.stderr)
    return 0 if len(answered) else 1


def _at_least_one(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _export_teachable_machine(args: argparse.Namespace) -> int:
    from face_emotion.core.paths import load_paths
    from face_emotion.core.tables import read_manifest
    from face_emotion.evaluation.teachable_machine import export_training_images

    manifest = Path(args.manifest) if args.manifest else load_paths().manifest
    if not manifest.is_file():
        raise UserError(f"{manifest} not found: run 'dvc repro prepare' first")
    counts = export_training_images(read_manifest(manifest), args.output, args.max_per_class, args.seed)
    print(f"wrote {sum(counts.values())} training images to {args.output}: {counts}")
    print("In Teachable Machine (Image Project), make one class per folder and upload that folder's images.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="face-emotion", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    importer = commands.add_parser("import-fer2013-csv", help="fer2013.csv (emotion,pixels,Usage) to image folders")
    importer.add_argument("table", help="path of fer2013.csv")
    importer.add_argument("out", help="folder to write <split>/<class>/*.png into, e.g. data_local/fer2013")
    importer.set_defaults(handler=_import_csv)
    predictor = commands.add_parser("predict", help="emotions of every face in photos, videos or folders")
    predictor.add_argument("--model", required=True, help="a model folder: models/au_model (AU model) or models/cnn")
    predictor.add_argument("--output", required=True, type=Path,
                           help="a .csv to write, one row per face (per analysed frame of a video)")
    predictor.add_argument("--annotate", type=Path, default=None, metavar="DIR",
                           help="a folder to draw into, one PNG per input (AU models): each photo's faces with their "
                                "reasons, each video's emotion timeline")
    predictor.add_argument("--frame-step", type=_at_least_one, metavar="N",
                           help="analyse every N-th frame of a video (default: all)")
    predictor.add_argument("--smooth", type=_at_least_one, metavar="N",
                           help="average each face's probabilities over its last N analysed frames (default: none)")
    predictor.add_argument("--max-faces", type=_at_least_one, metavar="N",
                           help="faces looked for per photo or frame (default: 8)")
    predictor.add_argument("--mask-detector", type=Path, default=None, metavar="DIR",
                           help="the mask detector that fills the masked column (default: the one --model's folder names "
                                "in its companions.json, e.g. models/mask_detector)")
    predictor.add_argument("--aus", action="store_true",
                           help="add each face's Action Units as OpenFace names them: AU01_r ... AU45_r (intensity, "
                                "0-5) and AU01_c ... (1: present, from intensity 1); with a CNN too")
    predictor.add_argument("paths", nargs="+", help="image and video files, or folders (searched recursively)")
    predictor.set_defaults(handler=_predict)
    exporter = commands.add_parser("export-teachable-machine",
                                   help="the training images in Teachable Machine's upload layout, a folder per class")
    exporter.add_argument("--output", required=True, help="a new (or empty) folder to write <class>/ folders into")
    exporter.add_argument("--manifest", default=None, help="the prepare stage's manifest (default: the pipeline's)")
    exporter.add_argument("--max-per-class", type=_at_least_one, default=None,
                          help="a seeded sample of at most this many images per class (the browser trains slowly)")
    exporter.add_argument("--seed", type=int, default=42, help="seed of that sample")
    exporter.set_defaults(handler=_export_teachable_machine)
    args = parser.parse_args(argv)
    interrupt_on_signals()
    try:
        return args.handler(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nerror: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
