"""The real pipeline, end to end, with real DVC commands on a small folder of real FER2013 faces."""

import io
import json

import pandas as pd
import pytest

from face_emotion.dataset import read_manifest

from .conftest import CLASSES, QUICK, copy_project, run, seed_table_sample, stages_run

pytestmark = pytest.mark.pipeline


@pytest.fixture
def project(quick_project):
    return quick_project


def test_metrics_for_every_model_unmasked_and_masked(project):
    (workspace,) = json.loads(run(["dvc", "metrics", "show", "--json"], cwd=project).stdout).values()
    evaluate = workspace["data"]["metrics/evaluate.json"]["data"]
    masked = evaluate.pop("masked")
    assert set(evaluate) == set(masked["models"]) == {"logreg", "cnn", "cnn_tta", "tm_classroom"}
    for scores in [*evaluate.values(), *masked["models"].values()]:
        assert 0.0 <= scores["accuracy"] <= 1.0 and scores["n"] == 10 * len(CLASSES)
        assert set(scores["per_class"]) == set(CLASSES)
    assert evaluate["logreg"]["no_face"] >= 0 and masked["models"]["logreg"]["no_face"] >= evaluate["logreg"]["no_face"]
    assert 0 < evaluate["logreg"]["size_mb"] < evaluate["cnn"]["size_mb"]
    assert masked["shape"] == "surgical" and set(masked["au_r"]) >= {"AU01_r", "AU12_r", "AU45_r"}
    table = (project / "reports" / "comparison.md").read_text()
    assert "| tm_classroom |" in table and "With the lower face masked" in table and "AUs still measurable" in table
    assert len(list((project / "features" / "masked_test").rglob("*.png"))) == 10 * len(CLASSES)


def test_bad_files_are_rejected_and_the_run_goes_on(project):
    manifest = read_manifest(project / "features" / "manifest.csv")
    rejected = manifest[manifest.status == "rejected"]
    assert len(rejected) == 5
    assert any("empty file" in r for r in rejected.reason) and any("unreadable image" in r for r in rejected.reason)
    au = pd.read_csv(project / "features" / "au.csv")
    assert len(au) == (manifest.status == "ok").sum()


def test_outputs_are_complete(project):
    coefficients = pd.read_csv(project / "models" / "logreg" / "coefficients.csv")
    assert list(coefficients.emotion) == CLASSES and "AU12 lip corner puller" in coefficients.columns
    assert (project / "models" / "cnn" / "model.keras").stat().st_size > 0
    assert (project / "metrics" / "cnn_train" / "plots" / "metrics" / "train" / "loss.tsv").is_file()
    confusion = pd.read_csv(project / "plots" / "confusion" / "logreg.csv")
    assert list(confusion.columns) == ["actual", "predicted"] and len(confusion) == 60


def test_repro_after_the_run_is_a_no_op(project):
    result = run(["dvc", "repro"], cwd=project)
    assert stages_run(result.stdout) == []
    assert "up to date" in run(["dvc", "status"], cwd=project).stdout


def test_changing_logreg_params_reruns_only_its_stages(project):
    """`-S logreg.C=0.1 -S logreg.features=au17_geometry -S logreg.knots=4`: the landmark geometry is already in the
    AU table; the additive model writes its curves beside the model."""
    result = run(["dvc", "exp", "run", "--name", "lowC", *QUICK, "-S", "logreg.C=0.1", "-S", "logreg.features=au17_geometry",
                  "-S", "logreg.knots=4"], cwd=project)
    assert sorted(stages_run(result.stdout)) == ["evaluate", "explain", "report", "train_logreg"]
    model = json.loads((project / "models" / "logreg" / "model.json").read_text())
    assert "lm_cheek_lift" in model["features"] and len(model["knots"]) == len(model["features"])
    shapes = pd.read_csv(project / "models" / "logreg" / "shapes.csv")
    assert set(shapes.emotion) == set(CLASSES) and "lm_cheek_lift" in set(shapes.feature)
    table = pd.read_csv(io.StringIO(run(["dvc", "exp", "show", "--csv"], cwd=project).stdout))
    runs = table.set_index("Experiment").loc[["first", "lowC"]]
    assert list(runs["logreg.C"]) == [1.0, 0.1] and list(runs["logreg.features"]) == ["au17", "au17_geometry"]
    assert list(runs["logreg.knots"]) == [0, 4]
    assert runs["logreg.accuracy"].notna().all() and runs["cnn.accuracy"].notna().all()


def test_pairwise_model_runs_as_an_experiment(project):
    """`-S logreg.pair_rounds=30`: the pairwise model's tables in model.json, its reasons and its metrics."""
    result = run(["dvc", "exp", "run", "--name", "pairwise", *QUICK, "-S", "logreg.features=au17_geometry",
                  "-S", "logreg.pair_rounds=30", "-S", "logreg.class_weight=null"], cwd=project)
    assert sorted(stages_run(result.stdout)) == ["evaluate", "explain", "report", "train_logreg"]
    model = json.loads((project / "models" / "logreg" / "model.json").read_text())
    assert model["terms"] and {len(term["features"]) for term in model["terms"]} <= {1, 2}
    explanations = pd.read_csv(project / "reports" / "explanations.csv")
    assert explanations.reasons.str.contains(r"\(0\.\d\d\): ").any()
    table = pd.read_csv(io.StringIO(run(["dvc", "exp", "show", "--csv"], cwd=project).stdout)).set_index("Experiment")
    assert int(table.loc["pairwise", "logreg.pair_rounds"]) == 30 and pd.notna(table.loc["pairwise", "logreg.accuracy"])


def test_cnn_architecture_learning_rate_and_tta_compare_in_exp_show(project):
    """`-S cnn=vgg -S cnn.learning_rate=0.005 -S cnn.tta=false`: only the CNN retrains (the face cache stays)."""
    result = run(["dvc", "exp", "run", "--name", "vgg", *QUICK, "-S", "cnn=vgg", "-S", "cnn.learning_rate=0.005",
                  "-S", "cnn.tta=false"], cwd=project)
    assert sorted(stages_run(result.stdout)) == ["evaluate", "report", "train_cnn"]
    table = pd.read_csv(io.StringIO(run(["dvc", "exp", "show", "--csv"], cwd=project).stdout)).set_index("Experiment")
    assert table.loc["first", "cnn.arch"] == "xception" and table.loc["vgg", "cnn.arch"] == "vgg"
    assert float(table.loc["vgg", "cnn.learning_rate"]) == 0.005
    assert pd.notna(table.loc["first", "cnn_tta.accuracy"]) and pd.isna(table.loc["vgg", "cnn_tta.accuracy"])
    info = json.loads((project / "models" / "cnn" / "model_info.json").read_text())
    assert info["arch"] == "vgg" and info["classes"] == CLASSES and "preprocessing" in info


def test_plots_render(project, tmp_path):
    run(["dvc", "plots", "show", "-o", str(tmp_path / "plots")], cwd=project)
    page = (tmp_path / "plots" / "index.html").read_text()
    for model in ("logreg", "cnn", "tm_classroom", "masked_logreg", "masked_cnn"):
        assert f"plots/confusion/{model}.csv" in page


def test_seed_reproduction_trains_the_au_model_on_the_original_table(tmp_path):
    """`dvc exp run -S experiment=seed_reproduction` on 800 real rows of the original project's AU table."""
    project = copy_project(tmp_path / "project")
    seed_table_sample(project / "seed.csv", 800)
    result = run(["dvc", "exp", "run", "-S", "experiment=seed_reproduction", "-S", "data.root=seed.csv"], cwd=project)
    assert "train_cnn: skipped" in result.stdout
    assert "the masked comparison is skipped" in result.stdout
    evaluate = json.loads((project / "metrics" / "evaluate.json").read_text())
    assert set(evaluate) == {"logreg"} and evaluate["logreg"]["n"] == 200
    assert evaluate["logreg"]["accuracy"] > 0.5
    assert "0.7551" in (project / "reports" / "comparison.md").read_text()
    page = (project / "reports" / "report.html").read_text()
    assert "What each emotion looks like" in page and "<img src=" not in page  # an AU table has no face images
    assert stages_run(run(["dvc", "repro"], cwd=project).stdout) == []


def test_sparse_pair_model_shows_its_facs_agreement(project):
    """`-S logreg.penalty=l1 -S logreg.C=0.1 -S logreg.features=au17_pairs`, compared in `dvc exp show`."""
    result = run(["dvc", "exp", "run", "--name", "l1-pairs", *QUICK, "-S", "logreg.penalty=l1", "-S", "logreg.C=0.1",
                  "-S", "logreg.features=au17_pairs"], cwd=project)
    assert sorted(stages_run(result.stdout)) == ["evaluate", "explain", "report", "train_logreg"]
    table = pd.read_csv(io.StringIO(run(["dvc", "exp", "show", "--csv"], cwd=project).stdout)).set_index("Experiment")
    assert table.loc["l1-pairs", "logreg.penalty"] == "l1"
    assert 0 <= float(table.loc["l1-pairs", "mean_share"]) <= 1 and "happy.hits" in table.columns
