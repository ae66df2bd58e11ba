"""The predictive score: the chance that a lead is won, learned from leads whose outcome is known.

    model = train(by=user, include=["extra.contract_number"])  # leakage check, fit, report, active
    score_all_leads()                                          # Lead.predictive_score of open leads
    predict_for(lead) -> float | None                          # one lead, cheap: the score stage

Won leads are the positives; lost and disqualified ones the negatives (merged leads are left out).
A lead is described by its profile (source, country, language, fit grade, job title words, its
organisation's size and industry, UTM source and medium, BANT answers), its source-specific extra
fields (categories one-hot with a cap on distinct values, numbers as numbers) and its behaviour
before a salesperson's first contact (form posts, mail opens and clicks, page visits, survey
answers). Sales' own activity (calls, mails, meetings, quotes, notes) and the estimated value are
only used when marketing asks for them: they happen after the contact, so they give the outcome
away instead of predicting it.

Before training every candidate field is checked the way a data scientist would (issue 12): alone
it predicts the outcome almost perfectly (AUC ≥ 0.95); it is filled in for one outcome and not the
other; it is filled on closed leads far more often than on the open ones the model scores; it has
values only closed leads have that go with one outcome; the timeline shows it first filled after
sales' first contact; its values identify single leads (never used); or its name says sales fills
it in (a soft reason). Placeholders ("Select", "-", "n/a") are missing values. A flagged field is
left out and named in the report with its reasons, unless marketing includes it explicitly. The
model is gradient-boosted trees (LeadTable → HistGradientBoostingClassifier) or a logistic
regression (feature dicts → DictVectorizer → MaxAbsScaler → LogisticRegression), whichever
predicts a validation part of the training leads better; it is evaluated on a stratified held-out
quarter, and the evaluated model is the one stored and used.
"""

from leadloop.assessment.predictive.services.features import (
    AFTER_CONTACT_KINDS,
    BATCH,
    CATEGORY_CAP,
    CATEGORY_FIELDS,
    CLOSED,
    CONTACT_KINDS,
    EMPTY,
    EXTRA_KEYS_CAP,
    LEAD_COLUMNS,
    LEAK_AUC,
    LEAKAGE_SAMPLE,
    MAX_TRAINING,
    MIN_CLOSED,
    MIN_PER_CLASS,
    NEGATIVE,
    NUMBER_FIELDS,
    OPT_IN_FIELDS,
    OTHER,
    PRE_CONTACT_KINDS,
    PRESENCE_GAP,
    PROFILE_FIELDS,
    SEED,
    TEST_SHARE,
    TOKEN_CAP,
    TOO_GOOD_AUC,
    TTL,
    WON,
    LeadFeatures,
    LeadTable,
    Record,
    fit_pipeline,
    is_missing,
    is_present,
    make_pipeline,
    name_says_leaky,
    one_thread,
    record_of,
    title_words,
    value_of,
)
from leadloop.assessment.predictive.services.history import (
    History,
    activity_counts,
    candidate_fields,
    load_history,
)
from leadloop.assessment.predictive.services.leakage import check_leakage
from leadloop.assessment.predictive.services.reading import (
    factor_text,
    field_label,
    flag_reason,
    flag_reasons,
    get_active_model,
    get_model,
    includable_fields,
    list_models,
    model_kind_label,
    warning_text,
)
from leadloop.assessment.predictive.services.scoring import (
    invalidate,
    load_pipeline,
    predict_for,
    score_all_leads,
)
from leadloop.assessment.predictive.services.training import (
    calibration,
    field_importance,
    lift_by_decile,
    top_factors,
    train,
    train_and_score,
)
from leadloop.assessment.predictive.services.trees import CompiledTrees

__all__ = [
    "AFTER_CONTACT_KINDS",
    "BATCH",
    "CATEGORY_CAP",
    "CATEGORY_FIELDS",
    "CLOSED",
    "CONTACT_KINDS",
    "EMPTY",
    "EXTRA_KEYS_CAP",
    "LEAD_COLUMNS",
    "LEAKAGE_SAMPLE",
    "LEAK_AUC",
    "MAX_TRAINING",
    "MIN_CLOSED",
    "MIN_PER_CLASS",
    "NEGATIVE",
    "NUMBER_FIELDS",
    "OPT_IN_FIELDS",
    "OTHER",
    "PRESENCE_GAP",
    "PRE_CONTACT_KINDS",
    "PROFILE_FIELDS",
    "SEED",
    "TEST_SHARE",
    "TOKEN_CAP",
    "TOO_GOOD_AUC",
    "TTL",
    "WON",
    "CompiledTrees",
    "History",
    "LeadFeatures",
    "LeadTable",
    "Record",
    "activity_counts",
    "calibration",
    "candidate_fields",
    "check_leakage",
    "factor_text",
    "field_importance",
    "field_label",
    "fit_pipeline",
    "flag_reason",
    "flag_reasons",
    "get_active_model",
    "get_model",
    "includable_fields",
    "invalidate",
    "is_missing",
    "is_present",
    "lift_by_decile",
    "list_models",
    "load_history",
    "load_pipeline",
    "make_pipeline",
    "model_kind_label",
    "name_says_leaky",
    "one_thread",
    "predict_for",
    "record_of",
    "score_all_leads",
    "title_words",
    "top_factors",
    "train",
    "train_and_score",
    "value_of",
    "warning_text",
]
