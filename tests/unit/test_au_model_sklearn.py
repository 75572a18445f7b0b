"""The AU model families are scikit-learn classifiers: keywords with conf/'s defaults, clone, cross_val_score and
GridSearchCV on an AU table, and the fitted estimator saved and explained as the pipeline's models are."""

import dataclasses
import inspect

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score

from face_emotion import au_models
from face_emotion.au_models import MODELS
from face_emotion.core.config import compose_conf
from face_emotion.core.errors import UserError
from face_emotion.explain.reasons import explain_table
from tests.helpers import synthetic_au_table


@pytest.mark.parametrize("kind", list(MODELS))
def test_each_family_takes_its_params_as_keywords_with_the_default_configurations_values(kind):
    family = MODELS[kind]
    keywords = {name: p.default for name, p in inspect.signature(family.__init__).parameters.items() if name != "self"}
    fields = [f.name for f in dataclasses.fields(family.Params) if f.name != "kind"]
    assert list(keywords) == [*fields, "emotions", "random_state"]
    conf = compose_conf(f"au_model={kind}")["au_model"]
    assert {name: keywords[name] for name in fields} == {name: conf[name] for name in fields}  # conf/ owns them
    model = family(**{fields[0]: "au17"}, random_state=3)
    assert clone(model).get_params() == model.get_params() and model.params.features == "au17"


def test_a_family_runs_through_cross_validation_and_a_grid_search_on_an_au_table(tmp_path):
    table = synthetic_au_table().sample(frac=1.0, random_state=0).reset_index(drop=True)  # folds hold every class
    scores = cross_val_score(MODELS["linear"](features="au17"), table, table.label, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.9  # each class raises its own AU: well above chance (1/3)
    search = GridSearchCV(MODELS["additive"](features="au17", knots=3), {"C": [0.01, 1.0]}, cv=3).fit(table, table.label)
    best = search.best_estimator_
    assert search.best_params_["C"] in (0.01, 1.0) and list(best.classes_) == ["happy", "sad", "surprise"]
    probabilities = best.predict_proba(table)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert (best.predict(table) == table.label).mean() > 0.9
    au_models.save(best, tmp_path, {})  # the plain-JSON form and the reasons, as for the pipeline's models
    loaded = au_models.load(tmp_path)
    np.testing.assert_allclose(loaded.predict_proba(table), probabilities)
    assert explain_table(loaded, table).reasons.str.contains("AU12 lip corner puller").any()


def test_an_array_needs_its_column_names_and_the_emotions_keep_their_order():
    table = synthetic_au_table()
    model = MODELS["linear"](features="au17", emotions=["surprise", "happy", "sad"])
    with pytest.raises(ValueError, match="column names"):
        model.fit(table[["AU12_r"]].to_numpy(), table.label)
    fitted = model.fit(table[["AU12_r", "AU26_r"]].to_numpy(), table.label, columns=["AU12_r", "AU26_r"])
    assert fitted.classes == ["surprise", "happy", "sad"] and fitted.features_ == ["AU12_r", "AU26_r"]


@pytest.mark.parametrize(("keywords", "message"), [
    ({"C": -1.0}, r"au_model\.C: input should be greater than 0"),
    ({"features": "pixels"}, r"au_model\.features: .* got 'pixels'"),
    ({"class_weight": "even"}, "au_model.class_weight"),
])
def test_a_hyperparameter_out_of_range_is_one_line_naming_its_key(keywords, message):
    table = synthetic_au_table()
    with pytest.raises(UserError, match=message) as raised:
        MODELS["linear"](**{"features": "au17", **keywords}).fit(table, table.label)
    assert "\n" not in str(raised.value)
