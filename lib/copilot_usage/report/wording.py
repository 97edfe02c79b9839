"""Report text as each audience reads it, one place: what a leader is not shown (commands, row counts, the kit's
internals, GitHub's raw field names) and GitHub's definition changes said once per report.

Leadership pages answer questions; how to fill an empty section (a ``copilot-usage`` command), how many rows a
table read and what a measure is called in GitHub's files are operator matters, kept for the analyst audience and
in the data notes (which print every definition change and what was not fetched).
"""

from __future__ import annotations

import re

import polars as pl

# GitHub's raw field and category names as they appear in sentences, and the words a leader reads instead
# (https://docs.github.com/en/copilot/reference/copilot-usage-metrics/copilot-usage-metrics-fields)
PLAIN_NAMES: dict[str, str] = {
    "ai_credits_used": "AI credits used",
    "loc_added_sum": "lines added",
    "loc_suggested_to_add_sum": "lines suggested",
    "loc_suggested_to_delete_sum": "lines suggested for deletion",
    "loc_deleted_sum": "lines deleted",
    "daily_active_users": "daily active users",
    "copilot_app": "Copilot app",
    "org_map": "organisation map",
    "user_team_day": "daily team membership",
    "repo_review_times_day": "review-stage times",
    "code_acceptance_activity_count": "accepted suggestions",
    "code_generation_activity_count": "code generations",
    "user_initiated_interaction_count": "interactions",
    "cli_session_count": "CLI sessions",
    "code_completion": "code completion",
    "chat_panel_agent_mode": "agent mode (chat panel)",
    "chat_panel_ask_mode": "ask mode (chat panel)",
    "chat_panel_edit_mode": "edit mode (chat panel)",
    "chat_panel_custom_mode": "custom mode (chat panel)",
    "chat_panel_plan_mode": "plan mode (chat panel)",
    "chat_panel_unknown_mode": "chat panel (mode not reported)",
    "chat_inline": "inline chat",
    "agent_edit": "agent edits",
    "copilot_cli": "Copilot CLI",
    "cost_center_name": "cost-centre column",
    "multi_user_cost_center": "users of a cost centre",
    "cost_center": "cost centre",
    "cost_centre": "cost centre",
    # the cache's tables, as a note on what was not fetched names them
    "user_day": "daily user activity",
    "user_ide_day": "activity per IDE",
    "user_feature_day": "activity per feature",
    "user_language_feature_day": "activity per language and feature",
    "user_language_model_day": "activity per language and model",
    "user_model_feature_day": "activity per model and feature",
    "user_3rd_party_agent_day": "third-party agent activity per user",
    "user_cli_customisation_day": "CLI customisation use per user",
    "aggregate_day": "daily totals",
    "aggregate_feature_day": "totals per feature",
    "aggregate_model_feature_day": "totals per model and feature",
    "aggregate_ide_day": "totals per IDE",
    "aggregate_language_feature_day": "totals per language and feature",
    "aggregate_language_model_day": "totals per language and model",
    "aggregate_3rd_party_agent_day": "third-party agent totals",
    "aggregate_cli_customisation_day": "CLI customisation totals",
    "aggregate_ai_adoption_phase_day": "adoption-phase totals",
    "repo_day": "repository activity",
    "team_members": "team member lists",
    "billing_ai_credit": "AI-credit billing",
    "billing_usage": "billing usage",
    "billing_user_month": "billing per user and month",
    "cost_center_resources": "cost-centre resources",
    "cost_center_members": "cost-centre members",
    "budget_user_states": "per-user budget states",
}
_RAW = re.compile(r"`?\b(" + "|".join(sorted(map(re.escape, PLAIN_NAMES), key=len, reverse=True)) + r")\b`?")
COMMAND = "copilot-usage "
# the audience's privacy minimum by its parameter name (``k_min``): a leader reads the number
_K_MIN_RULE = re.compile(r"\bthe k_min rule\b")
_K_MIN = re.compile(r"\bk_min\b")
# a command and the words that only serve it: "(`copilot-usage …` fetches it)", " — `copilot-usage …` fills …",
# " with `copilot-usage …`"
_COMMAND_CLAUSES = (
    re.compile(r"\s*\((?:[^()`]*)`copilot-usage [^`]*`[^()]*\)"),
    re.compile(r"\s*[—–:]\s*`copilot-usage [^`]*`[^.;]*"),
    re.compile(r"\s+with\s+`copilot-usage [^`]*`"),
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(`])")
# operator sentences: how many rows were read, which implementation computed a figure
_OPERATOR = (
    re.compile(r"Billing rows: [\d,]+ \([^)]*\)\.\s*"),
    re.compile(r"\s*\(one implementation\)"),
)
# a parameter set as the notebook spells it, said as what it does
_PARAMETERS = {"backfill_members=True": "The report's member-list backfill option"}


def for_leaders(text: str, *, k_min: int) -> str:
    """``text`` as the leadership audience reads it: no command (its clause, or else its sentence, left out), no
    row count or implementation note, GitHub's raw names in plain words, the privacy minimum as its number."""
    text = _K_MIN_RULE.sub(f"the {k_min}-user privacy minimum", text)
    text = _K_MIN.sub(str(k_min), text)
    for pattern in _COMMAND_CLAUSES:
        text = pattern.sub("", text)
    if COMMAND in text:
        text = " ".join(s for s in _SENTENCE_END.split(text) if COMMAND not in s)
    for pattern in _OPERATOR:
        text = pattern.sub("", text)
    for spelled, said in _PARAMETERS.items():
        text = text.replace(spelled, said)
    return _RAW.sub(lambda m: PLAIN_NAMES[m.group(1)], text).strip()


def once(sentences: tuple[str, ...], register: pl.DataFrame, said: set[str]) -> tuple[str, ...]:
    """``sentences`` with each of GitHub's definition changes (a ``register`` entry's text) explained once per
    report: a later sentence citing it again keeps its date and says it was explained above. ``said`` holds the
    entries explained so far and is updated."""
    if register.height == 0:
        return sentences
    out = []
    for sentence in sentences:
        for row in register.select("day", "change", "source").iter_rows(named=True):
            change = row["change"]
            if not change or change not in sentence:
                continue
            key = f"{row['day']}:{change}"
            if key in said:
                sentence = sentence.replace(f": {change} ({row['source']})", " (explained above)")
                sentence = sentence.replace(change, "(explained above)")
            else:
                said.add(key)
        out.append(sentence)
    return tuple(out)


def plain_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """A table as a leader reads it: GitHub's raw names, as column names or as text values (a feature, a
    field), in plain words (:data:`PLAIN_NAMES`); numbers untouched."""
    text = [c for c, d in frame.schema.items() if d == pl.String]
    out = frame.with_columns(pl.col(c).replace(PLAIN_NAMES) for c in text) if text else frame
    return out.rename(
        {c: PLAIN_NAMES[c] for c in out.columns if c in PLAIN_NAMES and PLAIN_NAMES[c] not in out.columns}
    )


_SVG_TEXT = re.compile(r">([^<>]+)<")


def plain_svg(svg: str) -> str:
    """A chart's SVG with GitHub's raw names in its labels (axes, legends, change markers) in plain words."""
    return _SVG_TEXT.sub(lambda m: ">" + _RAW.sub(lambda n: PLAIN_NAMES[n.group(1)], m.group(1)) + "<", svg)
