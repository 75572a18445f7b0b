"""Explanations: contributions add up to the logit, reasons in words, profiles and FACS agreement."""

import dataclasses
import re

import numpy as np
import pandas as pd
import pytest

from face_emotion import explain, logreg
from face_emotion.au.geometry import GEOMETRY_COLUMNS
from face_emotion.au.mapping import AU_COLUMNS, BLENDSHAPE_COLUMNS

from .test_logreg import ADDITIVE, CLASSES, PARAMS, synthetic_table

BOTH_MODELS = pytest.mark.parametrize("params", [PARAMS, ADDITIVE], ids=["linear", "additive"])


def fitted(params=PARAMS):
    table = synthetic_table()
    return logreg.fit(table, CLASSES, params, seed=0), table


@BOTH_MODELS
def test_contributions_and_intercept_sum_to_the_logit(params):
    model, table = fitted(params)
    values = table[list(AU_COLUMNS)].to_numpy()
    terms = model.contributions(values)
    np.testing.assert_allclose(terms.sum(axis=2) + np.asarray(model.intercept), model.logits(values), atol=1e-10)
    probabilities = np.exp(model.logits(values))
    np.testing.assert_allclose(probabilities / probabilities.sum(axis=1, keepdims=True), model.predict_proba(values))


@BOTH_MODELS
def test_reasons_name_the_au_that_drives_the_face(params):
    model, table = fitted(params)
    explained = explain.explain_table(model, table)
    happy = explained[explained.label == "happy"]
    assert (happy.predicted == "happy").mean() > 0.9
    first = happy.reasons.iloc[0]
    assert re.match(r"happy \([01]\.\d\d\): AU12 lip corner puller \+\d\.\d", first)
    probabilities = explained[[f"p_{c}" for c in CLASSES]].to_numpy()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-3)


def test_a_reason_from_a_weaker_than_average_au_says_low():
    model, _ = fitted()
    k, j = model.classes.index("happy"), model.features.index("AU12_r")
    model.coef[k][j] = -1.5  # as if less smiling meant more happy
    face = np.asarray(model.mean)  # the average face, except for one standard deviation less smile
    face[j] -= model.scale[j]
    (reason,) = explain.top_reasons(model, model.contributions(face[None])[0], model.standardise(face) < 0, "happy")
    assert explain.reason_text("happy", 0.5, [reason]) == "happy (0.50): AU12 lip corner puller (low) +1.5"


def test_additive_reasons_say_low_where_a_weak_au_raises_the_emotion():
    """Happy raises AU12 and sad AU15 here: a surprised face's weaker-than-average lip corners are named '(low)'."""
    model, table = fitted(ADDITIVE)
    surprised = explain.explain_table(model, table[table.label == "surprise"]).reasons
    assert surprised.str.contains(r"AU26 jaw drop \+").all()
    assert surprised.str.contains(r"lip corner (?:puller|depressor) \(low\) \+").any()


def test_unmeasured_faces_keep_their_reason():
    model, table = fitted()
    table["failure_reason"] = ""
    table.loc[3, ["success", "failure_reason"]] = [False, "no face found"]
    table.loc[3, list(AU_COLUMNS)] = np.nan
    explained = explain.explain_table(model, table)
    assert explained.loc[3, "predicted"] == "" and explained.loc[3, "reasons"] == "no face found"
    assert np.isnan(explained.loc[3, "p_happy"])


@BOTH_MODELS
def test_profiles_list_raising_and_lowering_features(params):
    model, _ = fitted(params)
    profile = explain.profiles(model, count=2)
    top = profile[(profile.emotion == "surprise") & (profile.direction == "raises") & (profile["rank"] == 1)]
    assert top.feature.item() == "AU26_r" and top.description.item() == "AU26 jaw drop"
    assert (profile[profile.direction == "lowers"].coefficient < 0).all()


@BOTH_MODELS
def test_facs_agreement_counts_prototype_aus_in_the_top_five(params):
    model, _ = fitted(params)
    agreement = explain.facs_agreement(model)
    assert set(agreement) == {"happy", "sad", "surprise"}
    assert 12 in agreement["happy"]["top_aus"] and agreement["happy"]["hits"] >= 1
    assert agreement["surprise"]["measurable"] == [1, 2, 5, 26]
    metrics = explain.agreement_metrics(agreement)
    assert 0 <= metrics["mean_share"] <= 1 and metrics["happy"]["hits"] == agreement["happy"]["hits"]


def test_blendshape_features_map_to_their_aus():
    rng = np.random.default_rng(0)
    table = pd.DataFrame(rng.uniform(0, 1, (90, len(BLENDSHAPE_COLUMNS))), columns=BLENDSHAPE_COLUMNS)
    table["label"] = np.repeat(CLASSES, 30)
    table.loc[table.label == "happy", ["bs_mouthSmileLeft", "bs_mouthSmileRight"]] += 2
    table["success"] = True
    table["path"] = [f"face_{i}.jpg" for i in range(len(table))]
    params = PARAMS.__class__(**{**PARAMS.__dict__, "features": "blendshapes"})
    model = logreg.fit(table, CLASSES, params, seed=0)
    assert 12 in explain.facs_agreement(model)["happy"]["top_aus"]
    assert "mouthSmileLeft (AU12 lip corner puller)" in explain.explain_table(model, table).reasons.iloc[0]


def test_landmark_geometry_features_count_for_their_aus():
    """With au17_geometry, a measured cheek lift stands for AU06, the prototype AU the blendshapes cannot see."""
    table = synthetic_table()
    rng = np.random.default_rng(1)
    for column in GEOMETRY_COLUMNS:
        table[column] = rng.normal(0, 0.05, len(table))
    table.loc[table.label == "happy", "lm_cheek_lift"] += 0.2
    model = logreg.fit(table, CLASSES, dataclasses.replace(PARAMS, features="au17_geometry"), seed=0)
    assert model.features[-len(GEOMETRY_COLUMNS):] == list(GEOMETRY_COLUMNS)
    assert explain.facs_agreement(model)["happy"]["hits"] == 2  # AU12 from AU12_r, AU06 from lm_cheek_lift
    happy_face = explain.explain_table(model, table[table.label == "happy"]).reasons.iloc[0]
    assert happy_face.startswith("happy") and "cheek lift (AU06 cheek raiser)" in happy_face
