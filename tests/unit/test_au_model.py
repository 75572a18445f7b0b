"""The AU model families: each reproduces the scikit-learn model it stands on, recomputes by hand from its plain
JSON, round-trips through its file, and fails clearly on bad tables and damaged files."""

import dataclasses
import json
import typing

import numpy as np
import pytest

from face_emotion import au_models
from face_emotion.core.config import AboveMaskFeatureSet
from face_emotion.core.errors import UserError
from face_emotion.core.facs import HEAD_POSITIONS, UPPER_FACE_AUS
from face_emotion.core.feature_sets import FEATURE_SETS, feature_matrix, feature_rows
from face_emotion.core.tables import AU_COLUMNS, BLENDSHAPE_COLUMNS, NO_FACE, UPPER_FACE_COLUMNS, action_units_of
from tests.helpers import SYNTHETIC_CLASSES as CLASSES
from tests.helpers import synthetic_au_table, synthetic_model_params

LINEAR, ADDITIVE, PAIRWISE, EBM = (synthetic_model_params(kind) for kind in ("linear", "additive", "pairwise", "ebm"))
FAMILIES = pytest.mark.parametrize("params", [LINEAR, ADDITIVE, PAIRWISE, EBM], ids=["linear", "additive", "pairwise", "ebm"])


def fit(params, table=None):
    return au_models.fit_table(synthetic_au_table() if table is None else table, params, CLASSES, seed=0)


def values_of(table):
    return table[list(AU_COLUMNS)].to_numpy()


def test_linear_model_reproduces_sklearn_and_learns_the_right_aus():
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    table = synthetic_au_table()
    model = fit(LINEAR, table)
    scaler = StandardScaler().fit(values_of(table))
    reference = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000).fit(scaler.transform(values_of(table)),
                                                                                        table.label)
    np.testing.assert_allclose(model.predict_proba(values_of(table)),
                               reference.predict_proba(scaler.transform(values_of(table))), atol=1e-6)
    coefficients = model.coefficient_table().set_index("emotion")
    assert coefficients.loc["happy"].drop("intercept").idxmax() == "AU12 lip corner puller"
    assert coefficients.loc["surprise"].drop("intercept").idxmax() == "AU26 jaw drop"


def test_additive_model_reproduces_sklearn_degree_one_splines():
    """The curves through the knots are scikit-learn's degree-1 splines on the same knots, refitted independently."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import SplineTransformer, StandardScaler

    table = synthetic_au_table()
    model = fit(ADDITIVE, table)
    knots = np.quantile(values_of(table), np.linspace(0, 1, 4), axis=0)
    np.testing.assert_allclose(np.asarray(model.knots_).T, knots)
    reference = make_pipeline(SplineTransformer(degree=1, knots=knots, extrapolation="constant"), StandardScaler(),
                              LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000))
    reference.fit(values_of(table), table.label)
    np.testing.assert_allclose(model.predict_proba(values_of(table)), reference.predict_proba(values_of(table)), atol=1e-6)


def test_additive_curves_recompute_by_hand_and_are_centred():
    """logit = intercept + sum of np.interp over the shape table; each curve averages 0 on the training faces."""
    table = synthetic_au_table()
    model = fit(ADDITIVE, table)
    shapes = model.shape_table()
    assert len(shapes) == len(CLASSES) * len(AU_COLUMNS) * 4
    by_hand = np.tile(np.asarray(model.intercept_), (len(table), 1))
    for (emotion, feature), curve in shapes.groupby(["emotion", "feature"], sort=False):
        by_hand[:, CLASSES.index(emotion)] += np.interp(table[feature], curve.knot, curve.logit)
    np.testing.assert_allclose(by_hand, model.logits(values_of(table)), atol=1e-9)
    np.testing.assert_allclose(model.contributions(values_of(table)).mean(axis=0), 0.0, atol=1e-9)
    slopes = model.coefficient_table().set_index("emotion")  # each curve's average slope per standard deviation
    assert slopes.loc["happy"].drop("intercept").idxmax() == "AU12 lip corner puller"
    assert slopes.loc["sad"].drop("intercept").idxmax() == "AU15 lip corner depressor"


def test_pairwise_model_reproduces_sklearn_boosting():
    """The terms are scikit-learn's depth-2 boosted trees, leaf by leaf: the same probabilities."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    table = synthetic_au_table()
    model = fit(PAIRWISE, table)
    reference = HistGradientBoostingClassifier(max_iter=20, learning_rate=0.3, max_depth=2, max_leaf_nodes=None,
                                               early_stopping=False, class_weight="balanced", random_state=0)
    reference.fit(values_of(table), table.label)
    np.testing.assert_allclose(model.predict_proba(values_of(table)), reference.predict_proba(values_of(table)), atol=1e-9)
    assert all(len(term["features"]) in (1, 2) for term in model.terms_)


def test_pairwise_terms_recompute_by_hand_and_are_centred():
    """logit = intercept + per term, the values of the boxes the face falls in minus the term's centre; the
    contributions share pair terms between their features and sum to the same logit."""
    table = synthetic_au_table()
    model = fit(PAIRWISE, table)
    values = values_of(table)
    by_hand = np.tile(np.asarray(model.intercept_), (len(values), 1))
    for row, face in enumerate(values):
        for term in model.terms_:
            by_hand[row] -= term["centre"]
            x = [face[AU_COLUMNS.index(f)] for f in term["features"]]
            for box, box_values in zip(term["boxes"], term["values"], strict=True):
                if all((lower is None or v > lower) and (upper is None or v <= upper)
                       for v, (lower, upper) in zip(x, box, strict=True)):
                    by_hand[row] += box_values
    np.testing.assert_allclose(by_hand, model.logits(values), atol=1e-9)
    np.testing.assert_allclose(model.contributions(values).mean(axis=0), 0.0, atol=1e-9)
    assert model.coefficient_table().set_index("emotion").loc["happy"].drop("intercept").idxmax() == "AU12 lip corner puller"


def test_pairwise_model_finds_an_interaction_and_ignores_a_constant_column():
    """Happy when the cheeks rise *and* the lip corners pull (sad: one or neither): a term of the pair carries it."""
    rng = np.random.default_rng(1)
    table = synthetic_au_table()
    table["AU45_r"] = 0.0
    table["AU15_r"] = rng.uniform(0, 1, len(table))  # sad's own AU, taken away
    cheeks_and_lips = np.array([(0, 0), (2, 0), (0, 2)])[rng.integers(0, 3, len(table))]
    cheeks_and_lips[table.label == "happy"] = (2, 2)
    table["AU06_r"], table["AU12_r"] = cheeks_and_lips.T
    model = fit(dataclasses.replace(PAIRWISE, rounds=50), table)
    assert ["AU06_r", "AU12_r"] in [term["features"] for term in model.terms_]
    assert all("AU45_r" not in term["features"] for term in model.terms_)


def test_ebm_model_reproduces_interpret_exactly_from_plain_bins():
    """The saved bins and scores give InterpretML's own probabilities (the library refitted independently), and the
    class weights reach it as sample weights."""
    from interpret.glassbox import ExplainableBoostingClassifier

    from face_emotion.au_models.ebm import balanced_weights

    table = synthetic_au_table().iloc[20:]  # fewer happy faces: the weights matter
    model = fit(EBM, table)
    reference = ExplainableBoostingClassifier(feature_names=list(AU_COLUMNS), feature_types=["continuous"] * 17,
                                              interactions=2, max_bins=16, max_interaction_bins=16, outer_bags=1,
                                              random_state=0)
    reference.fit(values_of(table), table.label, sample_weight=balanced_weights(table.label.to_numpy()))
    order = [list(reference.classes_).index(c) for c in CLASSES]
    np.testing.assert_allclose(model.predict_proba(values_of(table)), reference.predict_proba(values_of(table))[:, order],
                               atol=1e-9)
    assert model.n_terms == len(model.terms_) == 17 + 2 and [len(t["features"]) for t in model.terms_].count(2) == 2
    assert model.coefficient_table().set_index("emotion").loc["happy"].drop("intercept").idxmax() == "AU12 lip corner puller"


@FAMILIES
def test_two_classes_give_a_logit_per_class_with_the_librarys_probabilities(params):
    """With two classes scikit-learn and InterpretML keep one logit; each family still answers per class (in
    data.classes' order, here not the alphabetical one) with the library's own probabilities."""
    from interpret.glassbox import ExplainableBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from face_emotion.au_models.ebm import balanced_weights

    table = synthetic_au_table(classes=("happy", "sad")).iloc[10:]
    model = au_models.fit_table(table, params, ["sad", "happy"], seed=0)
    probabilities = model.predict_proba(values_of(table))
    assert probabilities.shape == (len(table), 2) and (probabilities.argmax(axis=1) == (table.label == "happy")).mean() > 0.9
    if params.kind == "ebm":
        reference = ExplainableBoostingClassifier(feature_names=list(AU_COLUMNS), feature_types=["continuous"] * 17,
                                                  interactions=2, max_bins=16, max_interaction_bins=16, outer_bags=1,
                                                  random_state=0)
        reference.fit(values_of(table), table.label, sample_weight=balanced_weights(table.label.to_numpy()))
        np.testing.assert_allclose(probabilities, reference.predict_proba(values_of(table))[:, ::-1], atol=1e-9)
    if params.kind == "linear":
        standardised = StandardScaler().fit_transform(values_of(table))
        reference = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000).fit(standardised, table.label)
        np.testing.assert_allclose(probabilities, reference.predict_proba(standardised)[:, ::-1], atol=1e-6)


@FAMILIES
def test_contributions_sum_to_the_logit_and_the_file_round_trips(params, tmp_path):
    table = synthetic_au_table()
    model = fit(params, table)
    values = values_of(table)
    np.testing.assert_allclose(model.contributions(values).sum(axis=2) + np.asarray(model.intercept_),
                               model.logits(values), atol=1e-10)
    au_models.save(model, tmp_path, {"backend": "mediapipe"})
    saved = json.loads((tmp_path / au_models.MODEL_FILE).read_text())
    assert saved["kind"] == params.kind and saved["params"]["kind"] == params.kind
    again = au_models.load(tmp_path)
    assert type(again) is type(model) and again.params == model.params
    np.testing.assert_array_equal(again.predict_proba(values), model.predict_proba(values))
    assert (tmp_path / au_models.COEFFICIENTS_FILE).is_file() and (tmp_path / au_models.AU_SETTINGS_FILE).is_file()


@FAMILIES
def test_a_constant_column_is_harmless(params):
    table = synthetic_au_table()
    table["AU45_r"] = 0.0
    model = fit(params, table)
    assert np.isfinite(model.predict_proba(values_of(table))).all()
    assert np.all(model.contributions(values_of(table))[:, :, AU_COLUMNS.index("AU45_r")] == 0)


def test_unmeasured_faces_predict_no_face():
    table = synthetic_au_table()
    model = fit(LINEAR, table)
    table.loc[[0, 1], "success"] = False
    table.loc[[0, 1], list(AU_COLUMNS)] = np.nan
    predicted = au_models.predict_table(model, table)
    assert list(predicted[:2]) == [NO_FACE, NO_FACE] and set(predicted[2:]) <= set(CLASSES)


def test_upper_face_model_uses_only_brow_lid_cheek_and_blink_aus():
    table = synthetic_au_table()
    table["AU05_r"] += np.where(table.label == "surprise", 3, 0)  # wide-open lids for surprise
    model = fit(dataclasses.replace(LINEAR, features="upper_face"), table)
    assert model.features_ == ["AU01_r", "AU02_r", "AU04_r", "AU05_r", "AU06_r", "AU07_r", "AU45_r"]
    assert model.coefficient_table().set_index("emotion").loc["surprise"].idxmax() == "AU05 upper lid raiser"


def test_every_feature_a_mask_leaves_visible_is_of_brows_eyes_cheeks_or_head():
    """The masked-face AU model's feature sets (mask.au_features) name no movement of nose, mouth, lips or jaw."""
    for name in typing.get_args(AboveMaskFeatureSet):
        features = FEATURE_SETS[name]
        assert set(UPPER_FACE_COLUMNS) <= set(features)
        for feature in features:
            assert set(action_units_of(feature)) <= {*UPPER_FACE_AUS, *HEAD_POSITIONS}, feature
            assert not any(part in feature.lower() for part in ("mouth", "lip", "jaw", "nose", "chin", "corner"))
    assert len(FEATURE_SETS["upper_face_geometry_blendshapes"]) == 37


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda t: t.drop(columns="AU12_r"), r"no column 'AU12_r'"),
        (lambda t: t[t.label != "sad"], "class 'sad'"),
    ],
)
@FAMILIES
def test_bad_training_tables_fail_clearly(spoil, message, params):
    with pytest.raises(UserError, match=message):
        fit(params, spoil(synthetic_au_table()))


@FAMILIES
def test_a_value_not_measured_adds_nothing_to_any_logit(params):
    """AU06 read from a region outside the image (NaN): fitted as the feature's mean; on that face its term is 0,
    every other term is the one the mean would give, and the terms still sum to the logits."""
    table = synthetic_au_table()
    table.loc[[5, 50], "AU06_r"] = np.nan
    model = fit(params, table)
    values = feature_matrix(table, model.features_)
    terms, j = model.contributions(values), model.features_.index("AU06_r")
    assert np.isfinite(terms).all() and (terms[[5, 50], :, j] == 0).all()
    np.testing.assert_allclose(terms.sum(axis=2) + np.asarray(model.intercept_), model.logits(values), atol=1e-10)
    filled = values.copy()
    filled[[5, 50], j] = model.mean_[j]
    np.testing.assert_allclose(np.delete(terms, j, axis=2), np.delete(model.contributions(filled), j, axis=2))
    assert model.mean_[j] == pytest.approx(np.nanmean(values[:, j]))


def test_nan_in_a_column_read_from_no_region_is_a_clear_error():
    """Blendshapes are MediaPipe's outputs for the whole face, never left empty on a measured face: NaN is damage."""
    table = synthetic_au_table().assign(**dict.fromkeys(BLENDSHAPE_COLUMNS, 0.1))
    table.loc[5, "bs_cheekPuff"] = np.nan
    with pytest.raises(UserError, match=r"1 measured rows with NaN features \(first: face_5.jpg\)"):
        fit(dataclasses.replace(LINEAR, features="both"), table)


def test_rows_as_dicts_give_the_tables_features_and_its_errors():
    """predict reads its faces' rows as dicts: the same values (pairs as products, NaN where not measured) and the
    same one-line errors."""
    table = synthetic_au_table().assign(**dict.fromkeys(BLENDSHAPE_COLUMNS, 0.1))
    table.loc[3, "AU06_r"] = np.nan
    features = FEATURE_SETS["au17_pairs"] + FEATURE_SETS["blendshapes"]
    rows = table.to_dict("records")
    np.testing.assert_array_equal(feature_rows(rows, features), feature_matrix(table, features))
    assert np.isnan(feature_rows(rows, features)[3, features.index("AU06_r*AU12_r")])
    assert feature_rows([], features).shape == (0, len(features))
    rows[3] = {**rows[3], "bs_cheekPuff": float("nan")}
    with pytest.raises(UserError, match=r"1 measured rows with NaN features \(first: "):
        feature_rows(rows, features)
    rows[3] = {k: v for k, v in rows[3].items() if k != "AU12_r"}
    with pytest.raises(UserError, match=r"no column 'AU12_r'"):
        feature_rows(rows, features)


def test_geometry_features_on_a_table_without_them_fail_clearly():
    """An OpenFace table has no lm_* landmark measurements: au17_geometry says where they come from."""
    with pytest.raises(UserError, match=r"no column 'lm_inner_brow_height' .*au=mediapipe"):
        fit(dataclasses.replace(LINEAR, features="au17_geometry"))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda text: text[: len(text) // 2], "is damaged .JSONDecodeError"),
        (lambda text: json.dumps({"kind": "forest", "format": 1}), "not an AU model of this version .kind 'forest'"),
        (lambda text: json.dumps({**json.loads(text), "format": 0}), "format 0"),
        (lambda text: json.dumps({k: v for k, v in json.loads(text).items() if k != "coef"}), "is damaged .KeyError"),
        (lambda text: json.dumps({**json.loads(text), "coef": [[1.0]]}), "is damaged"),
        (lambda text: json.dumps({**json.loads(text), "neutral": [0.0]}), "neutral has shape"),
        (lambda text: json.dumps({k: v for k, v in json.loads(text).items() if k != "neutral"}), "is damaged .KeyError"),
        (lambda text: json.dumps({**json.loads(text), "params": {**json.loads(text)["params"], "C": -1}}),
         r"au_model\.C: input should be greater than 0"),
        (lambda text: "[1, 2]", "not an AU model"),
    ],
)
def test_damaged_model_files_are_one_clear_line(tmp_path, damage, message):
    au_models.save(fit(LINEAR), tmp_path, {})
    path = tmp_path / au_models.MODEL_FILE
    path.write_text(damage(path.read_text()))
    with pytest.raises(UserError, match=message) as raised:
        au_models.load(tmp_path)
    assert "\n" not in str(raised.value) and "dvc repro train_au_model" in str(raised.value)


def test_an_ebm_term_of_three_features_is_a_damaged_file(tmp_path):
    """The saved EBM holds main effects and pairs; a term of three features (an edited file) is refused, not misread."""
    au_models.save(fit(EBM), tmp_path, {})
    path = tmp_path / au_models.MODEL_FILE
    saved = json.loads(path.read_text())
    pair = next(term for term in saved["terms"] if len(term["features"]) == 2)
    pair["features"].append(saved["features"][0])
    pair["cuts"].append([0.5])
    pair["scores"] = [[[[0.0] * len(CLASSES)] * 4] * len(pair["scores"][0])] * len(pair["scores"])
    path.write_text(json.dumps(saved))
    with pytest.raises(UserError, match=r"is damaged .*has 3 features, not 1 or 2") as raised:
        au_models.load(tmp_path)
    assert "\n" not in str(raised.value)


def test_missing_model_file(tmp_path):
    with pytest.raises(UserError, match="not found"):
        au_models.load(tmp_path)
