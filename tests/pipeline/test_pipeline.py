"""The real pipeline, end to end, with real DVC commands on a small folder of real FER2013 faces."""

import io
import json
import re
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from PIL import Image

from face_emotion.au.validity import FACE_PIXELS, LABEL_HEIGHT, MIN_SPREAD, MONTAGE_FACES, prototype_of
from face_emotion.core.facs import ACTION_UNITS
from face_emotion.core.param_reads import covered
from face_emotion.core.paths import load_paths
from face_emotion.core.tables import (
    AU_COLUMNS,
    AU_MODEL,
    AU_ROUTE,
    CNN_ROUTE,
    CNN_UPPER_FACE,
    UPPER_FACE_AU_MODEL,
    read_au_table,
    read_csv_with_text,
    read_manifest,
)
from face_emotion.reporting import results
from tests.helpers import (
    ALL_STAGES,
    CLASSES,
    QUICK,
    run,
    stages_run,
)
from tests.pipeline.conftest import param_reads_file

MODELS = {AU_MODEL, UPPER_FACE_AU_MODEL, AU_ROUTE, "cnn", "cnn_tta", CNN_UPPER_FACE, CNN_ROUTE, "tm_classroom"}


def exp_show(project) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(run(["dvc", "exp", "show", "--csv"], cwd=project).stdout)).set_index("Experiment")


def test_headline_metrics_for_every_model(quick_project):
    (workspace,) = json.loads(run(["dvc", "metrics", "show", "--json"], cwd=quick_project).stdout).values()
    headline = workspace["data"]["metrics/evaluate.json"]["data"]
    assert set(headline) == {*MODELS, "mask_detector", "cnn_concepts"}
    assert set(headline.pop("mask_detector")) == {"masked_accuracy", "unseen_mask_accuracy"}
    concepts = headline.pop("cnn_concepts")  # the default CNN is the concept model
    assert set(concepts) == {"concept_fidelity", "head_accuracy", "intervention_accuracy", "facs_agreement"}
    assert all(-1.0 <= value <= 1.0 for value in concepts.values())
    for scores in headline.values():
        assert set(scores) == {"accuracy", "macro_f1", "dedup_accuracy", "masked_accuracy", "unseen_mask_accuracy"}
        assert all(0.0 <= value <= 1.0 for value in scores.values())
    measured = workspace["data"]["metrics/mask_faces.json"]["data"]
    assert set(measured) == {"masked_detection_rate", "unseen_mask_detection_rate"}
    trained = workspace["data"]["metrics/train_cnn.json"]["data"]["cnn"]
    assert 0 <= trained["val_masked_accuracy"] <= 1
    assert 0 <= workspace["data"]["metrics/train_mask_detector.json"]["data"]["mask_detector"]["val_accuracy"] <= 1
    assert 0 < workspace["data"]["metrics/mask_train_faces.json"]["data"]["train_detection_rate"] <= 1
    masked_model = workspace["data"]["metrics/train_upper_face_au_model.json"]["data"][UPPER_FACE_AU_MODEL]
    assert set(masked_model) == {"val_accuracy", "val_macro_f1", "terms", "size_mb"}


def test_details_and_tables_for_people(quick_project):
    paths = load_paths(quick_project)
    details = json.loads(paths.comparison_details.read_text())
    assert set(details["masked"]) == {"masked", "unseen_mask"}
    for test_set, style in (("masked", "surgical_pleated"), ("unseen_mask", "respirator")):
        masked = details["masked"][test_set]
        assert set(details["models"]) == set(masked["models"]) == MODELS
        for scores in [*details["models"].values(), *masked["models"].values()]:
            assert scores["n"] == 10 * len(CLASSES) and set(scores["per_class"]) == set(CLASSES)
        assert details["models"][AU_MODEL]["no_face"] <= masked["models"][AU_MODEL]["no_face"]
        assert masked["style"] == style and set(masked["au_r"]) >= {"AU01_r", "AU12_r", "AU45_r"}
        assert 0 <= masked["mask_detection"] <= 1
        assert len(list(paths.masked_images(test_set).rglob("*.png"))) == 10 * len(CLASSES)
    assert details["models"][AU_MODEL]["size_mb"] > 0 and details["models"]["cnn"]["size_mb"] > 0
    table = paths.comparison.read_text()
    assert "| tm_classroom |" in table and "AUs still measurable" in table and "Mask detector:" in table
    assert "masked: the lower face under a surgical_pleated mask" in table
    assert "unseen_mask: the lower face under a respirator mask over 50% of the face (a style training never draws)" \
        in table
    verdicts = pd.read_csv(paths.mask_detection)
    assert list(verdicts.columns) == ["path", "label", "masked", "masked_masked", "unseen_mask_masked"]
    assert len(verdicts) == 10 * len(CLASSES) and verdicts.iloc[:, 2:].isin([True, False]).all().all()
    answers = pd.read_csv(paths.predictions).merge(verdicts, on=["path", "label"], validate="one_to_one")
    for prefix, said_masked in (("", answers.masked), ("masked_", answers.masked_masked)):
        expected = answers[f"{prefix}{UPPER_FACE_AU_MODEL}"].where(said_masked, answers[f"{prefix}{AU_MODEL}"])
        assert (answers[f"{prefix}{AU_ROUTE}"] == expected).all()  # the route: each face to one AU model by the detector


def test_bad_files_are_rejected_and_the_run_goes_on(quick_project):
    paths = load_paths(quick_project)
    manifest = read_manifest(paths.manifest)
    rejected = manifest[manifest.status == "rejected"]
    assert len(rejected) == 5
    assert any("empty file" in r for r in rejected.reason) and any("unreadable image" in r for r in rejected.reason)
    assert len(pd.read_csv(paths.au_table)) == (manifest.status == "ok").sum()


def test_outputs_are_complete(quick_project):
    paths = load_paths(quick_project)
    coefficients = pd.read_csv(paths.au_model / "coefficients.csv")
    assert list(coefficients.emotion) == CLASSES and "AU12 lip corner puller" in coefficients.columns
    assert json.loads((paths.au_model / "model.json").read_text())["kind"] == "ebm"
    assert (paths.cnn / "model.keras").stat().st_size > 0
    assert (paths.cnn_training / "plots" / "metrics" / "train" / "loss.tsv").is_file()
    confusion = pd.read_csv(paths.confusion / f"{AU_MODEL}.csv")
    assert list(confusion.columns) == ["actual", "predicted"] and len(confusion) == 60
    examples = pd.read_csv(paths.examples, dtype={"drawing": str}).fillna({"drawing": ""})
    drawn = examples[examples.drawing != ""]
    assert len(drawn) >= len(CLASSES) and all((paths.example_faces / name).is_file() for name in drawn.drawing)
    assert paths.shape_plot.stat().st_size > 0


def test_readability_and_faithfulness_are_metrics(quick_project):
    paths = load_paths(quick_project)
    trained = json.loads(paths.train_au_model_metrics.read_text())[AU_MODEL]
    assert 84 <= trained["terms"] <= 96 and trained["size_mb"] > 0  # main effects and up to 10 pairs (ebm_small)
    explained = json.loads(paths.explain_metrics.read_text())
    assert set(explained) == {"facs_agreement", "faithfulness_deletion", "mirror_stability"}
    assert 0 <= explained["faithfulness_deletion"] <= 1 and 0 <= explained["mirror_stability"] <= 1


def test_repro_after_the_run_is_a_no_op(quick_project):
    assert stages_run(run(["dvc", "repro"], cwd=quick_project).stdout) == []
    assert "up to date" in run(["dvc", "status"], cwd=quick_project).stdout


def test_exp_show_fits_headline_numbers_and_names_the_model_family(quick_project):
    table = exp_show(quick_project)
    assert table.loc["first", "au_model.kind"] == "ebm" and pd.notna(table.loc["first", "au_model.accuracy"])
    assert not table.columns.str.contains(r"\.per_class\.|\.dedup\.|^masked\.").any()  # details stay in reports/
    assert pd.notna(table.loc["first", "cnn.unseen_mask_accuracy"]) and pd.notna(table.loc["first", "cnn.val_masked_accuracy"])


def test_additive_model_reruns_only_its_stages(project_copy):
    """`-S au_model=additive -S au_model.features=au17_geometry -S au_model.knots=4`: the landmark geometry is already
    in the AU table; the additive model writes its curves beside the model."""
    result = run(["dvc", "exp", "run", "--name", "additive", *QUICK, "-S", "au_model=additive",
                  "-S", "au_model.features=au17_geometry", "-S", "au_model.knots=4"], cwd=project_copy)
    assert sorted(stages_run(result.stdout)) == ["check_params", "evaluate", "explain", "practice", "report",
                                                "surrogates", "train_au_model", "train_upper_face_au_model"]
    paths = load_paths(project_copy)
    model = json.loads((paths.au_model / "model.json").read_text())
    assert model["kind"] == "additive" and "lm_cheek_lift" in model["features"]
    assert len(model["knots"]) == len(model["features"])
    shapes = pd.read_csv(paths.au_model / "shapes.csv")
    assert set(shapes.emotion) == set(CLASSES) and "lm_cheek_lift" in set(shapes.feature)
    runs = exp_show(project_copy).loc[["first", "additive"]]
    assert list(runs["au_model.kind"]) == ["ebm", "additive"]
    assert list(runs["au_model.features"]) == ["au17_geometry_blendshapes", "au17_geometry"]
    assert runs["au_model.accuracy"].notna().all() and runs["cnn.accuracy"].notna().all()


def test_pairwise_model_runs_as_an_experiment(project_copy):
    """`-S au_model=pairwise -S au_model.rounds=30`: the terms in model.json, their reasons and their metrics."""
    result = run(["dvc", "exp", "run", "--name", "pairwise", *QUICK, "-S", "au_model=pairwise",
                  "-S", "au_model.features=au17_geometry", "-S", "au_model.rounds=30"], cwd=project_copy)
    assert sorted(stages_run(result.stdout)) == ["check_params", "evaluate", "explain", "practice", "report",
                                                "surrogates", "train_au_model", "train_upper_face_au_model"]
    paths = load_paths(project_copy)
    model = json.loads((paths.au_model / "model.json").read_text())
    assert model["kind"] == "pairwise" and {len(term["features"]) for term in model["terms"]} <= {1, 2}
    assert pd.read_csv(paths.explanations).reasons.str.contains(r"\(0\.\d\d\): ").any()
    table = exp_show(project_copy)
    assert int(table.loc["pairwise", "au_model.rounds"]) == 30 and pd.notna(table.loc["pairwise", "au_model.accuracy"])


def test_sparse_linear_model_shows_its_facs_agreement(project_copy):
    """`-S au_model=linear -S au_model.l1_ratio=1 -S au_model.C=0.1 -S au_model.features=au17_pairs`, compared in
    `dvc exp show`."""
    result = run(["dvc", "exp", "run", "--name", "l1-pairs", *QUICK, "-S", "au_model=linear", "-S", "au_model.l1_ratio=1",
                  "-S", "au_model.C=0.1",
                  "-S", "au_model.features=au17_pairs"], cwd=project_copy)
    assert sorted(stages_run(result.stdout)) == ["check_params", "evaluate", "explain", "practice", "report",
                                                "surrogates", "train_au_model", "train_upper_face_au_model"]
    table = exp_show(project_copy)
    assert float(table.loc["l1-pairs", "au_model.l1_ratio"]) == 1.0
    assert 0 <= float(table.loc["l1-pairs", "facs_agreement"]) <= 1


def test_cnn_architecture_learning_rate_and_tta_compare_in_exp_show(project_copy):
    """`-S cnn=vgg -S cnn.learning_rate=0.005 -S evaluate.tta=false`: only the CNN retrains (the face cache stays)."""
    result = run(["dvc", "exp", "run", "--name", "vgg", *QUICK, "-S", "cnn=vgg", "-S", "cnn.learning_rate=0.005",
                  "-S", "evaluate.tta=false"], cwd=project_copy)
    assert sorted(stages_run(result.stdout)) == ["answer_faces", "check_params", "evaluate", "report", "surrogates",
                                                     "train_cnn"]
    table = exp_show(project_copy)
    assert table.loc["first", "cnn.arch"] == "xception" and table.loc["vgg", "cnn.arch"] == "vgg"
    assert float(table.loc["vgg", "cnn.learning_rate"]) == 0.005
    assert pd.notna(table.loc["first", "cnn_tta.accuracy"]) and pd.isna(table.loc["vgg", "cnn_tta.accuracy"])
    info = json.loads((load_paths(project_copy).cnn / "model_info.json").read_text())
    assert info["arch"] == "vgg" and info["classes"] == CLASSES and "preprocessing" in info


def test_concept_cnn_sequential_and_plain_compare_in_exp_show_and_predict_gives_its_reasons(project_copy, tmp_path):
    """The default CNN is the concept model (cnn.concepts=au17_geometry, joint): its head is a readable table, its
    concepts are checked against the measured AUs of the test faces, predict gives its reasons. `-S
    cnn.concept_training=sequential` and `-S cnn.concepts=null` (a plain CNN, a black box: it gets an AU surrogate)
    retrain only the CNN and its surrogate."""
    paths = load_paths(project_copy)
    head = pd.read_csv(paths.cnn / "coefficients.csv").set_index("emotion")
    assert list(head.index) == CLASSES and "AU12 lip corner puller" in head.columns and len(head.columns) == 35
    fidelity = pd.read_csv(paths.concept_fidelity)
    assert list(fidelity.concept[:17]) == list(AU_COLUMNS) and fidelity.faces.max() > 0
    faces = sorted((project_copy / "faces" / "test" / "happy").glob("*.jpg"))[:3]
    run([str(Path(sys.executable).parent / "face-emotion"), "predict", *map(str, faces), "--model", str(paths.cnn),
         "--output", str(tmp_path / "out.csv")], cwd=project_copy)
    rows = pd.read_csv(tmp_path / "out.csv")
    assert len(rows) == 3 and rows.au_reasons.str.match(r"^\w+ \([01]\.\d\d\): ").all()
    default_offsets = json.loads((paths.cnn / "model_info.json").read_text())["class_bias"]
    assert list(default_offsets) == CLASSES
    plain = ["cnn.concepts=null", "cnn=vgg", "cnn.epochs=30", "cnn.patience=30", "cnn.mask_prob=0",  # answers 2+ classes
             "cnn.class_bias=null"]
    for name, overrides in (("sequential", ["cnn.concept_training=sequential", "cnn.seed=43"]), ("plain", plain)):
        result = run(["dvc", "exp", "run", "--name", name, *QUICK, *(f for o in overrides for f in ("-S", o))],
                     cwd=project_copy)
        assert sorted(stages_run(result.stdout)) == ["answer_faces", "check_params", "evaluate", "report", "surrogates",
                                                     "train_cnn"]
        seed = json.loads((paths.cnn / "model_info.json").read_text())["seed"]
        assert seed == (43 if name == "sequential" else 42)  # cnn.seed, else the experiment's (the split's: 42)
    table = exp_show(project_copy).loc[["first", "sequential", "plain"]]
    assert list(table["cnn.concept_training"]) == ["joint", "sequential", "joint"]
    for column in ("cnn_concepts.concept_fidelity", "cnn_concepts.intervention_accuracy", "cnn_concepts.facs_agreement",
                   "cnn.val_concept_fidelity"):
        assert table[column].iloc[:2].notna().all() and pd.isna(table.loc["plain", column]), column
    assert not (paths.cnn / "coefficients.csv").exists() and pd.notna(table.loc["plain", "cnn.accuracy"])
    assert json.loads((paths.cnn / "model_info.json").read_text())["class_bias"] == dict.fromkeys(CLASSES, 0.0)
    assert table.loc["sequential", "cnn.seed"] == 43 and table.loc[["first", "plain"], "cnn.seed"].isna().all()
    assert table[["cnn.val_macro_f1", "cnn.val_class_bias_heldout_gain.macro_f1"]].notna().all().all()
    # the plain CNN, a black box, gets an AU surrogate; the Teachable Machine export of random weights answers one
    # class on every face, so it gets none, and the run says so and goes on
    assert (table["tm_classroom.classes_answered"].astype(float) == 1).all()
    assert 0 <= float(table.loc["plain", "cnn.surrogate_agreement"]) <= 1
    assert pd.isna(table.loc["first", "cnn.surrogate_agreement"])  # the concept CNN gives its own reasons
    assert (paths.surrogates / "cnn" / "model.json").is_file()
    run([str(Path(sys.executable).parent / "face-emotion"), "predict", *map(str, faces), "--model", str(paths.cnn),
         "--output", str(tmp_path / "plain.csv")], cwd=project_copy)
    rows = pd.read_csv(tmp_path / "plain.csv")
    assert rows.au_reasons.str.match(r"^AU surrogate: \w+ \([01]\.\d\d\): ").all()
    assert set(rows.surrogate_agrees) <= {True, False} and "AU01_r" not in rows  # measured for the surrogate, not shown
    compared = run([sys.executable, "-m", "face_emotion.reporting.compare"], cwd=project_copy).stdout  # make compare
    assert max(map(len, compared.splitlines())) <= 120
    metrics, params = compared.split("Params that differ")
    assert all(re.search(rf"^{name} +[\d.]+ ", metrics, re.MULTILINE) for name in ("first", "sequential", "plain"))
    assert "fidelity" in metrics and "surrogate" in metrics and "cnn.concept_training" in params


def test_each_stage_reads_only_the_params_dvc_yaml_declares(quick_project):
    """Recorded while the quick run ran each stage (face_emotion.core.param_reads): a param a stage reads but does not
    declare would not rerun the stage when it changes. compute.* is left out on purpose: threads and workers change
    how fast, never what (the next test)."""
    declared = {name: stage.get("params", []) for name, stage in
                yaml.safe_load((quick_project / "dvc.yaml").read_text())["stages"].items()}
    runs = [json.loads(line) for line in param_reads_file(quick_project).read_text().splitlines()]
    assert sorted(run["stage"] for run in runs) == sorted(ALL_STAGES)
    undeclared = {run["stage"]: [read for read in run["reads"] if not read.startswith("compute.")
                                 and not covered(read, declared[run["stage"]])] for run in runs}
    assert not any(undeclared.values()), f"params read but not declared in dvc.yaml: {undeclared}"
    assert "data.classes" in next(run["reads"] for run in runs if run["stage"] == "train_cnn")  # reads are seen


def test_compute_settings_rerun_nothing(quick_project, tmp_path):
    """`-S compute.au_workers=1 -S compute.cnn_threads=1`: how fast, not what; only the params check runs."""
    project = shutil.copytree(quick_project, tmp_path / "project", symlinks=True)
    result = run(["dvc", "exp", "run", "--name", "slow", *QUICK, "-S", "compute.au_workers=1",
                  "-S", "compute.cnn_threads=1"], cwd=project)
    assert stages_run(result.stdout) == ["check_params"]


def test_rewording_a_movement_reruns_only_the_stages_that_write_or_draw_words(quick_project, tmp_path):
    """dvc.yaml lists the modules each stage runs: plain words changed in core/words.py leave every model in place."""
    project = shutil.copytree(quick_project, tmp_path / "project", symlinks=True)
    words = project / "face_emotion" / "core" / "words.py"
    words.write_text(words.read_text().replace('"dimples"', '"dimples in the cheeks"'))
    status = json.loads(run(["dvc", "status", "--json"], cwd=project).stdout)
    assert sorted(status) == ["answer_faces", "explain", "practice"]  # answer_faces: the concept CNN's reasons


def test_plots_render(quick_project, tmp_path):
    run(["dvc", "plots", "show", "-o", str(tmp_path / "plots")], cwd=quick_project)
    page = (tmp_path / "plots" / "index.html").read_text()
    for model in (AU_MODEL, "cnn", "tm_classroom", f"masked_{AU_MODEL}", "masked_cnn", "unseen_mask_cnn"):
        assert f"plots/confusion/{model}.csv" in page
    assert "au_profiles.png" in page


def test_every_au_column_of_the_run_has_spread_and_a_montage(quick_project):
    """No dead AU: every AU column of the run's table varies over its faces (au_validity.MIN_SPREAD on 0-5), the
    au_validity metric scores the AUs that are in a prototype of the run's emotions, and each AU has its montage."""
    paths = load_paths(quick_project)
    table = read_au_table(paths.au_table)
    measured = table[table.success.astype(bool)]
    spread = {column: float(measured[column].std(ddof=0)) for column in AU_COLUMNS}
    assert [column for column, value in spread.items() if value < MIN_SPREAD] == []
    metrics = json.loads(paths.au_validity_metrics.read_text())
    assert metrics["dead"] == [] and metrics["spread"] == pytest.approx(spread, abs=1e-3)
    assert set(metrics["auc"]) == {au.column for au in ACTION_UNITS if prototype_of(au, CLASSES)}
    assert 0 <= metrics["au_validity"] <= 1
    scores = read_csv_with_text(paths.au_scores, ("prototype_of",))
    assert list(scores.au) == list(AU_COLUMNS) and scores.loc[scores.au == "AU06_r", "prototype_of"].item() == "happy"
    per_row = min(MONTAGE_FACES, int((measured.split == "val").sum()))  # a small run has fewer validation faces
    for column in AU_COLUMNS:
        with Image.open(paths.au_montages / f"{column}.png") as montage:
            assert montage.size == (per_row * FACE_PIXELS, 2 * (FACE_PIXELS + LABEL_HEIGHT))


def test_results_page_shows_the_runs_au_checks_and_the_cnns_class_offsets(quick_project, monkeypatch, tmp_path):
    monkeypatch.chdir(quick_project)
    page = results.render(load_paths(), tmp_path / "results.md")
    offsets = json.loads((load_paths().cnn / "model_info.json").read_text())["class_bias"]
    gain = json.loads(load_paths().train_cnn_metrics.read_text())["cnn"]["val_class_bias_heldout_gain"]["macro_f1"]
    assert gain > 0 or not any(offsets.values())  # kept only where they raised macro-F1 on held-out halves
    listed = ", ".join(f"{emotion} {value:+.2f}" for emotion, value in offsets.items()) if any(offsets.values()) else (
        "none kept")
    assert f"with its class offsets ({listed}; chosen on one half" in page
    assert re.search(r"offsets changed macro-F1 by [+-]\d\.\d{4} and accuracy by [+-]\d\.\d{4}\)", page)
    assert "AU measurement checks (validation split; `au_validity`, the mean prototype AUC: " in page
    assert re.search(r"\| AU06_r +\| cheek raiser +\| happy +\| +[01](\.\d+)? +\| +\d\.\d+ \|", page)
    assert re.search(r"\| AU45_r +\| blink +\| - +\| - +\|", page)  # in no prototype: no AUC
