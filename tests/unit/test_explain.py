"""Explanations: contributions add up to the logit, reasons in words, profiles and FACS agreement."""

import dataclasses
import re

import numpy as np
import pandas as pd
import pytest

from face_emotion import au_models
from face_emotion.core.tables import AU_COLUMNS, BLENDSHAPE_COLUMNS, GEOMETRY_COLUMNS
from face_emotion.explain.profiles import agreement_score, facs_agreement, profiles
from face_emotion.explain.reasons import explain_table, reason_text, top_reasons
from tests.helpers import SYNTHETIC_CLASSES as CLASSES
from tests.helpers import synthetic_au_table, synthetic_model_params

LINEAR, ADDITIVE, PAIRWISE, EBM = (synthetic_model_params(kind) for kind in ("linear", "additive", "pairwise", "ebm"))

ALL_MODELS = pytest.mark.parametrize("params", [LINEAR, ADDITIVE, PAIRWISE, EBM],
                                     ids=["linear", "additive", "pairwise", "ebm"])


def fitted(params=LINEAR, table=None):
    table = synthetic_au_table() if table is None else table
    return au_models.fit_table(table, params, CLASSES, seed=0), table


@ALL_MODELS
def test_contributions_and_intercept_sum_to_the_logit(params):
    model, table = fitted(params)
    values = table[list(AU_COLUMNS)].to_numpy()
    terms = model.contributions(values)
    np.testing.assert_allclose(terms.sum(axis=2) + np.asarray(model.intercept_), model.logits(values), atol=1e-10)
    probabilities = np.exp(model.logits(values))
    np.testing.assert_allclose(probabilities / probabilities.sum(axis=1, keepdims=True), model.predict_proba(values))


@ALL_MODELS
def test_reasons_name_the_au_that_drives_the_face(params):
    model, table = fitted(params)
    explained = explain_table(model, table)
    happy = explained[explained.label == "happy"]
    assert (happy.predicted == "happy").mean() > 0.9
    first = happy.reasons.iloc[0]
    assert re.match(r"happy \([01]\.\d\d\): AU12 lip corner puller \+\d\.\d", first)
    probabilities = explained[[f"p_{c}" for c in CLASSES]].to_numpy()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-3)


def test_a_reason_from_a_movement_no_stronger_than_on_a_neutral_face_says_at_rest():
    model, _ = fitted()
    k, j = model.classes.index("happy"), model.features_.index("AU12_r")
    model.coef_[k][j] = -1.5  # as if less smiling meant more happy
    model.neutral_ = list(model.mean_)  # a neutral face as the average one
    face = np.asarray(model.mean_)  # the average face, except for one standard deviation less smile
    face[j] -= model.scale_[j]
    (reason,) = top_reasons(model, model.contributions(face[None])[0], model.shown(face[None])[0], "happy")
    assert reason_text("happy", 0.5, [reason]) == "happy (0.50): AU12 lip corner puller (at rest) +1.5"


def test_the_neutral_face_is_the_median_of_the_neutral_training_faces_and_is_saved(tmp_path):
    table = synthetic_au_table().assign(label=lambda t: t.label.replace("sad", "neutral"))
    model = au_models.fit_table(table, synthetic_model_params("linear"), ["happy", "neutral", "surprise"], seed=0)
    expected = table[table.label == "neutral"][model.features_].median()
    np.testing.assert_allclose(model.neutral_, expected.to_numpy())
    au_models.save(model, tmp_path, {})
    assert au_models.load(tmp_path).neutral_ == model.neutral_
    without_neutral = au_models.fit_table(synthetic_au_table(), synthetic_model_params("linear"), CLASSES, seed=0)
    np.testing.assert_allclose(without_neutral.neutral_, synthetic_au_table()[model.features_].median().to_numpy())


def test_additive_reasons_say_at_rest_where_a_movement_absent_raises_the_emotion():
    """Happy raises AU12 and sad AU15 here: a surprised face's lip corners at rest are named so."""
    model, table = fitted(ADDITIVE)
    surprised = explain_table(model, table[table.label == "surprise"]).reasons
    assert surprised.str.contains(r"AU26 jaw drop \+").all()
    assert surprised.str.contains(r"lip corner (?:puller|depressor) \(at rest\) \+").any()


def test_unmeasured_faces_keep_their_reason():
    model, table = fitted()
    table["failure_reason"] = ""
    table.loc[3, ["success", "failure_reason"]] = [False, "no face found"]
    table.loc[3, list(AU_COLUMNS)] = np.nan
    explained = explain_table(model, table)
    assert explained.loc[3, "predicted"] == "" and explained.loc[3, "reasons"] == "no face found"
    assert np.isnan(explained.loc[3, "p_happy"])


@ALL_MODELS
def test_profiles_list_raising_and_lowering_features(params):
    model, _ = fitted(params)
    profile = profiles(model, count=2)
    top = profile[(profile.emotion == "surprise") & (profile.direction == "raises") & (profile["rank"] == 1)]
    assert top.feature.item() == "AU26_r" and top.description.item() == "AU26 jaw drop"
    assert (profile[profile.direction == "lowers"].coefficient < 0).all()


@ALL_MODELS
def test_facs_agreement_counts_prototype_aus_in_the_top_five(params):
    model, _ = fitted(params)
    agreement = facs_agreement(model)
    assert set(agreement) == {"happy", "sad", "surprise"}
    assert 12 in agreement["happy"]["top_aus"] and agreement["happy"]["hits"] >= 1
    assert agreement["surprise"]["measurable"] == [1, 2, 5, 26]
    assert agreement_score(agreement) == round(np.mean([a["share"] for a in agreement.values()]), 4)


def test_blendshape_features_map_to_their_aus():
    rng = np.random.default_rng(0)
    table = pd.DataFrame(rng.uniform(0, 1, (90, len(BLENDSHAPE_COLUMNS))), columns=BLENDSHAPE_COLUMNS)
    table["label"] = np.repeat(CLASSES, 30)
    table.loc[table.label == "happy", ["bs_mouthSmileLeft", "bs_mouthSmileRight"]] += 2
    table["success"] = True
    table["path"] = [f"face_{i}.jpg" for i in range(len(table))]
    model, _ = fitted(dataclasses.replace(LINEAR, features="blendshapes"), table)
    assert 12 in facs_agreement(model)["happy"]["top_aus"]
    assert "mouthSmileLeft (AU12 lip corner puller)" in explain_table(model, table).reasons.iloc[0]


def test_landmark_geometry_features_count_for_their_aus():
    """With au17_geometry, a measured cheek lift stands for AU06, the prototype AU the blendshapes cannot see."""
    table = synthetic_au_table()
    rng = np.random.default_rng(1)
    for column in GEOMETRY_COLUMNS:
        table[column] = rng.normal(0, 0.05, len(table))
    table.loc[table.label == "happy", "lm_cheek_lift"] += 0.2
    model, _ = fitted(dataclasses.replace(LINEAR, features="au17_geometry"), table)
    assert model.features_[-len(GEOMETRY_COLUMNS):] == list(GEOMETRY_COLUMNS)
    assert facs_agreement(model)["happy"]["hits"] == 2  # AU12 from AU12_r, AU06 from lm_cheek_lift
    happy_face = explain_table(model, table[table.label == "happy"]).reasons.iloc[0]
    assert happy_face.startswith("happy") and "cheek lift (AU06 cheek raiser)" in happy_face



def test_a_measurement_that_falls_counts_for_the_au_of_its_fall():
    """Sad faces with lowered inner brows: the brows' fall is AU04, a sad prototype AU, named as such, never as
    'less AU01'; a feature whose fall is no movement of its own (an AU intensity) is only ever a rise."""
    table = synthetic_au_table()
    rng = np.random.default_rng(2)
    for column in GEOMETRY_COLUMNS:
        table[column] = rng.normal(0, 0.05, len(table))
    table.loc[table.label == "sad", "lm_inner_brow_height"] -= 0.3
    model, _ = fitted(dataclasses.replace(LINEAR, features="au17_geometry"), table)
    assert 4 in facs_agreement(model)["sad"]["top_aus"]
    raising = profiles(model)
    raising = raising[(raising.emotion == "sad") & (raising.direction == "raises")]
    brows = raising[raising.feature == "lm_inner_brow_height"]
    assert brows.description.item() == "inner brow height, low (AU04 brow lowerer)" and brows.coefficient.item() > 0
    assert not raising.description.str.contains("AU01").any()
    lowering = profiles(model)
    assert not lowering[lowering.feature.isin(AU_COLUMNS)].description.str.contains(", low").any()

@ALL_MODELS
def test_deleting_the_top_reasons_costs_more_than_deleting_random_features(params):
    """On the synthetic faces the reasons are the AUs that make each emotion: removing them matters."""
    from face_emotion.explain.faithfulness import deletion_share

    model, table = fitted(params)
    assert deletion_share(model, table[list(AU_COLUMNS)].to_numpy(), seed=0) > 0.9


def test_mirror_stability_swaps_sides_and_names_the_movement():
    """A model that reads only the left smile: on the mirror image its top reason is the right smile, the same AU."""
    from face_emotion.explain.faithfulness import mirror_stability, mirrored

    rng = np.random.default_rng(2)
    table = pd.DataFrame(rng.uniform(0, 1, (90, len(BLENDSHAPE_COLUMNS))), columns=BLENDSHAPE_COLUMNS)
    table["label"] = np.repeat(CLASSES, 30)
    table.loc[table.label == "happy", ["bs_mouthSmileLeft", "bs_mouthSmileRight"]] += 2
    table["success"], table["path"] = True, [f"face_{i}.jpg" for i in range(len(table))]
    model, _ = fitted(dataclasses.replace(LINEAR, features="blendshapes"), table)
    values = table[list(BLENDSHAPE_COLUMNS)].to_numpy()
    swapped = mirrored(values, list(BLENDSHAPE_COLUMNS))
    left, right = BLENDSHAPE_COLUMNS.index("bs_mouthSmileLeft"), BLENDSHAPE_COLUMNS.index("bs_mouthSmileRight")
    np.testing.assert_array_equal(swapped[:, left], values[:, right])
    np.testing.assert_array_equal(mirrored(swapped, list(BLENDSHAPE_COLUMNS)), values)
    assert mirror_stability(model, values[table.label == "happy"]) >= 0.9  # the smile, left or right: AU12
