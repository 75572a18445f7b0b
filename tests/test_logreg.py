"""The explainable model: its plain table reproduces scikit-learn, and its bad inputs fail clearly."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from face_emotion import logreg
from face_emotion.au.mapping import AU_COLUMNS
from face_emotion.config import LogregParams
from face_emotion.errors import UserError

CLASSES = ["happy", "sad", "surprise"]
PARAMS = LogregParams(features="au17", penalty="l2", C=1.0, l1_ratio=0.5, class_weight="balanced", standardise=True,
                      max_iter=1000)


def synthetic_table(rows_per_class: int = 40, seed: int = 0) -> pd.DataFrame:
    """AU rows where each class raises its own AUs (happy AU12, sad AU15, surprise AU26)."""
    rng = np.random.default_rng(seed)
    frames = []
    for label, au in zip(CLASSES, ("AU12_r", "AU15_r", "AU26_r"), strict=False):
        values = rng.uniform(0, 1, size=(rows_per_class, len(AU_COLUMNS)))
        frame = pd.DataFrame(values, columns=AU_COLUMNS)
        frame[au] += 3
        frame["label"] = label
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    table["success"] = True
    table["path"] = [f"face_{i}.jpg" for i in range(len(table))]
    return table


def test_table_reproduces_sklearn_and_learns_the_right_aus():
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    table = synthetic_table()
    model = logreg.fit(table, CLASSES, PARAMS, seed=0)
    values = table[list(AU_COLUMNS)].to_numpy()
    scaler = StandardScaler().fit(values)
    reference = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000).fit(scaler.transform(values), table.label)
    np.testing.assert_allclose(model.predict_proba(values), reference.predict_proba(scaler.transform(values)), atol=1e-6)
    coefficients = model.coefficient_table().set_index("emotion")
    assert coefficients.loc["happy"].drop("intercept").idxmax() == "AU12 lip corner puller"
    assert coefficients.loc["surprise"].drop("intercept").idxmax() == "AU26 jaw drop"


def test_saved_json_round_trips(tmp_path):
    model = logreg.fit(synthetic_table(), CLASSES, PARAMS, seed=0)
    model.save(tmp_path / "model.json")
    assert logreg.AuModel.load(tmp_path / "model.json") == model


ADDITIVE = dataclasses.replace(PARAMS, knots=4)


def test_additive_model_reproduces_sklearn_degree_one_splines():
    """The curves through the knots are scikit-learn's degree-1 splines on the same knots, refitted independently."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import SplineTransformer, StandardScaler

    table = synthetic_table()
    model = logreg.fit(table, CLASSES, ADDITIVE, seed=0)
    values = table[list(AU_COLUMNS)].to_numpy()
    knots = np.quantile(values, np.linspace(0, 1, 4), axis=0)
    np.testing.assert_allclose(np.asarray(model.knots).T, knots)
    reference = make_pipeline(SplineTransformer(degree=1, knots=knots, extrapolation="constant"), StandardScaler(),
                              LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000)).fit(values, table.label)
    np.testing.assert_allclose(model.predict_proba(values), reference.predict_proba(values), atol=1e-6)


@pytest.mark.parametrize("standardise", [True, False])
def test_additive_curves_recompute_by_hand_and_are_centred(standardise):
    """logit = intercept + sum of np.interp over the shape table; each curve averages 0 on the training faces."""
    table = synthetic_table()
    model = logreg.fit(table, CLASSES, dataclasses.replace(ADDITIVE, standardise=standardise), seed=0)
    values = table[list(AU_COLUMNS)].to_numpy()
    shapes = model.shape_table()
    assert len(shapes) == len(CLASSES) * len(AU_COLUMNS) * 4
    by_hand = np.tile(np.asarray(model.intercept), (len(values), 1))
    for (emotion, feature), curve in shapes.groupby(["emotion", "feature"], sort=False):
        by_hand[:, CLASSES.index(emotion)] += np.interp(values[:, AU_COLUMNS.index(feature)], curve.knot, curve.logit)
    np.testing.assert_allclose(by_hand, model.logits(values), atol=1e-9)
    np.testing.assert_allclose(model.contributions(values).mean(axis=0), 0.0, atol=1e-9)
    slopes = model.coefficient_table().set_index("emotion")  # each curve's average slope per standard deviation
    assert slopes.loc["happy"].drop("intercept").idxmax() == "AU12 lip corner puller"
    assert slopes.loc["sad"].drop("intercept").idxmax() == "AU15 lip corner depressor"


def test_additive_model_round_trips_and_survives_a_constant_column(tmp_path):
    table = synthetic_table()
    table["AU45_r"] = 0.0  # one knot: a flat curve at 0
    model = logreg.fit(table, CLASSES, ADDITIVE, seed=0)
    assert model.knots[AU_COLUMNS.index("AU45_r")] == [0.0]
    assert np.all(model.contributions(table[list(AU_COLUMNS)].to_numpy())[:, :, AU_COLUMNS.index("AU45_r")] == 0)
    model.save(tmp_path / "model.json")
    assert logreg.AuModel.load(tmp_path / "model.json") == model


def test_unmeasured_faces_predict_no_face():
    table = synthetic_table()
    model = logreg.fit(table, CLASSES, PARAMS, seed=0)
    table.loc[[0, 1], "success"] = False
    table.loc[[0, 1], list(AU_COLUMNS)] = np.nan
    predicted = logreg.predict_table(model, table)
    assert list(predicted[:2]) == ["no_face", "no_face"]
    assert set(predicted[2:]) <= set(CLASSES)


def test_constant_column_is_harmless():
    table = synthetic_table()
    table["AU45_r"] = 0.0
    model = logreg.fit(table, CLASSES, PARAMS, seed=0)
    assert np.isfinite(model.predict_proba(table[list(AU_COLUMNS)].to_numpy())).all()


PAIRWISE = dataclasses.replace(PARAMS, pair_rounds=20, learning_rate=0.3)


def test_pairwise_model_reproduces_sklearn_boosting():
    """The terms are scikit-learn's depth-2 boosted trees, leaf by leaf: the same probabilities."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    table = synthetic_table()
    model = logreg.fit(table, CLASSES, PAIRWISE, seed=0)
    values = table[list(AU_COLUMNS)].to_numpy()
    reference = HistGradientBoostingClassifier(max_iter=20, learning_rate=0.3, max_depth=2, max_leaf_nodes=None,
                                               early_stopping=False, class_weight="balanced", random_state=0)
    reference.fit(values, table.label)
    np.testing.assert_allclose(model.predict_proba(values), reference.predict_proba(values), atol=1e-9)
    assert all(len(term["features"]) in (1, 2) for term in model.terms)


def test_pairwise_terms_recompute_by_hand_are_centred_and_round_trip(tmp_path):
    """logit = intercept + per term, the values of the boxes the face falls in minus the term's centre; the
    contributions share pair terms between their features and sum to the same logit."""
    table = synthetic_table()
    model = logreg.fit(table, CLASSES, PAIRWISE, seed=0)
    model.save(tmp_path / "model.json")
    assert logreg.AuModel.load(tmp_path / "model.json") == model
    values = table[list(AU_COLUMNS)].to_numpy()
    by_hand = np.tile(np.asarray(model.intercept), (len(values), 1))
    for row, face in enumerate(values):
        for term in model.terms:
            by_hand[row] -= term["centre"]
            for box, box_values in zip(term["boxes"], term["values"], strict=True):
                x = [face[AU_COLUMNS.index(f)] for f in term["features"]]
                if all((lower is None or v > lower) and (upper is None or v <= upper)
                       for v, (lower, upper) in zip(x, box, strict=True)):
                    by_hand[row] += box_values
    np.testing.assert_allclose(by_hand, model.logits(values), atol=1e-9)
    np.testing.assert_allclose(model.contributions(values).sum(axis=2) + model.intercept, by_hand, atol=1e-9)
    np.testing.assert_allclose(model.contributions(values).mean(axis=0), 0.0, atol=1e-9)
    slopes = model.coefficient_table().set_index("emotion")
    assert slopes.loc["happy"].drop("intercept").idxmax() == "AU12 lip corner puller"


def test_pairwise_model_finds_an_interaction_and_ignores_a_constant_column():
    """Happy when the cheeks rise *and* the lip corners pull (sad: one or neither): a term of the pair carries it."""
    rng = np.random.default_rng(1)
    table = synthetic_table()
    table["AU45_r"] = 0.0
    table["AU15_r"] = rng.uniform(0, 1, len(table))  # sad's own AU, taken away
    cheeks_and_lips = np.array([(0, 0), (2, 0), (0, 2)])[rng.integers(0, 3, len(table))]
    cheeks_and_lips[table.label == "happy"] = (2, 2)
    table["AU06_r"], table["AU12_r"] = cheeks_and_lips.T
    model = logreg.fit(table, CLASSES, dataclasses.replace(PAIRWISE, pair_rounds=50), seed=0)
    assert ["AU06_r", "AU12_r"] in [term["features"] for term in model.terms]
    assert all("AU45_r" not in term["features"] for term in model.terms)
    assert np.isfinite(model.predict_proba(table[list(AU_COLUMNS)].to_numpy())).all()


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda t: t.assign(AU06_r=np.where(t.index == 5, np.nan, t.AU06_r)), "NaN features"),
        (lambda t: t.drop(columns="AU12_r"), r"no column 'AU12_r'"),
        (lambda t: t[t.label != "sad"], "class 'sad'"),
    ],
)
@pytest.mark.parametrize("params", [PARAMS, ADDITIVE, PAIRWISE], ids=["linear", "additive", "pairwise"])
def test_bad_training_tables_fail_clearly(spoil, message, params):
    with pytest.raises(UserError, match=message):
        logreg.fit(spoil(synthetic_table()), CLASSES, params, seed=0)


def test_geometry_features_on_a_table_without_them_fail_clearly():
    """An OpenFace table has no lm_* landmark measurements: au17_geometry says where they come from."""
    with pytest.raises(UserError, match=r"no column 'lm_inner_brow_height' .*au=mediapipe"):
        logreg.fit(synthetic_table(), CLASSES, dataclasses.replace(PARAMS, features="au17_geometry"), seed=0)


def test_unknown_feature_set():
    with pytest.raises(UserError, match=r"unknown logreg\.features"):
        logreg.fit(synthetic_table(), CLASSES, dataclasses.replace(PARAMS, features="pixels"), seed=0)


def test_upper_face_model_uses_only_brow_lid_cheek_and_blink_aus():
    table = synthetic_table()
    table["AU05_r"] += np.where(table.label == "surprise", 3, 0)  # wide-open lids for surprise
    model = logreg.fit(table, CLASSES, dataclasses.replace(PARAMS, features="upper_face"), seed=0)
    assert model.features == ["AU01_r", "AU02_r", "AU04_r", "AU05_r", "AU06_r", "AU07_r", "AU45_r"]
    coefficients = model.coefficient_table().set_index("emotion")
    assert coefficients.loc["surprise"].idxmax() == "AU05 upper lid raiser"
