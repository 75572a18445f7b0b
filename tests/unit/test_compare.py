"""make compare: headline metrics and the params that differ, named as dvc exp show names the experiments."""

import pytest

from face_emotion.reporting.compare import HEADLINE, experiment_tables, flat_params, main, render


def test_the_tables_hold_the_headline_metrics_and_only_the_params_that_differ(tmp_path):
    (tmp_path / "params.yaml").write_text("seed: 0\ncnn:\n  concept_weight: 1.0\n  augment:\n    flip: true\n")
    params = flat_params(tmp_path / "params.yaml")
    assert params == {"seed", "cnn.concept_weight", "cnn.augment.flip"}
    rows = [{"Experiment": None, "rev": "workspace", "State": None, "seed": 0, "cnn.concept_weight": 1.0,
             "cnn.augment.flip": True, "cnn_tta.accuracy": 0.70, "cnn.val_accuracy": 0.71, "other.metric": 3},
            {"Experiment": "weight3", "rev": "abc1234", "State": "Running", "seed": 0, "cnn.concept_weight": 3.0,
             "cnn.augment.flip": True, "cnn_tta.accuracy": "!", "cnn.val_accuracy": 0.72, "other.metric": 4}]
    metrics, differing = experiment_tables(rows, params)
    assert list(metrics.index) == ["workspace", "weight3 (running)"]
    assert list(metrics.columns) == [HEADLINE["cnn.val_accuracy"], HEADLINE["cnn_tta.accuracy"]]  # validation first
    assert list(differing.columns) == ["cnn.concept_weight"] and list(differing["cnn.concept_weight"]) == ["1.0", "3.0"]
    text = render(metrics)
    assert "weight3 (running)" in text and "0.7200" in text and "!" not in text  # DVC's 'missing' shown as '-'
    assert max(len(line) for line in render(metrics.assign(**{f"m{i}": 0.5 for i in range(30)})).splitlines()) <= 120
    assert render(differing.iloc[:, :0]) == "(none)"


def test_outside_the_repository_it_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as ended:
        main()
    err = capsys.readouterr().err
    assert ended.value.code == 2 and err.startswith("error: make compare: ") and err.count("\n") == 1
