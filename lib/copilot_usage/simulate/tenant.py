"""A deterministic simulated Copilot tenant, generated vectorised and lazily by day.

The tenant is a set of per-user attribute arrays (drawn once from the seed) plus two per-day stages:

1. ``flags(day)`` — who is active and which surfaces they touched (cheap: a few random numbers per
   user). Weekly/monthly active users are distinct counts over 7/28 days of these flags.
2. ``user_rows(day)`` — the activity counts and breakdowns of the active users, as a polars frame
   that serialises to GitHub's NDJSON record
   (https://docs.github.com/en/copilot/reference/copilot-usage-metrics/copilot-usage-metrics).

Every other report (aggregates, user-teams, repos, billing) is derived from these, so they
reconcile exactly. Each day draws from its own ``numpy`` generator keyed by ``(seed, stage, day)``:
a day is the same whichever days were generated before it.

Ground truth for tests: credits of a (model, feature) cell are
``interactions × MODEL_CREDITS[model] + generations × FEATURE_CREDITS[feature]``, times a per-user-day
noise factor; code completions cost nothing (GitHub Docs, "Usage-based billing for organizations and
enterprises", linked in ``pricing.py``).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from ..catalog import AI_CREDITS_FIELD_START, ENTERPRISE_DATA_START, FIELD_STARTS, ORG_DATA_START
from . import changes

FEATURES = (
    "code_completion",
    "agent_edit",
    "chat_panel_agent_mode",
    "chat_panel_ask_mode",
    "chat_panel_custom_mode",
    "chat_panel_edit_mode",
    "chat_panel_plan_mode",
    "chat_panel_unknown_mode",
    "chat_inline",
    "copilot_cli",
    "others",
    "copilot_app",  # in the roll-ups from 2026-07-28 (FIELD_STARTS["copilot_app_user"])
)
# credits per model interaction (ground truth for the value-per-credit estimator)
MODEL_CREDITS = {
    "gpt-4.1": 2.0,
    "gpt-5-mini": 1.0,
    "gpt-5": 8.0,
    "claude-sonnet-4.5": 10.0,
    "gemini-2.5-pro": 6.0,
    "claude-opus-4.1": 30.0,
}
MODELS = tuple(MODEL_CREDITS)
# credits per code-generation event of a feature, on top of the model's per-interaction cost
FEATURE_CREDITS = {
    "code_completion": 0.0,
    "agent_edit": 2.5,
    "chat_panel_agent_mode": 4.0,
    "chat_panel_ask_mode": 0.3,
    "chat_panel_custom_mode": 2.0,
    "chat_panel_edit_mode": 1.5,
    "chat_panel_plan_mode": 2.0,
    "chat_panel_unknown_mode": 0.5,
    "chat_inline": 0.3,
    "copilot_cli": 3.0,
    "others": 0.5,
    "copilot_app": 3.5,
}
ARCHETYPES = ("non_user", "completion_only", "chat", "agent", "cli_heavy", "mixed")
_ARCH_P = (0.10, 0.30, 0.24, 0.14, 0.08, 0.14)
IDES = ("vscode", "intellij", "visualstudio", "neovim", "vim")
_IDE_P = (0.6, 0.2, 0.1, 0.06, 0.04)
_IDE_VERSION = {
    "vscode": "1.106.2",
    "intellij": "2026.2.1",
    "visualstudio": "17.14.9",
    "neovim": "0.11.4",
    "vim": "9.1.1200",
}
LANGUAGES = ("python", "typescript", "java", "go", "csharp", "rust", "javascript", "unknown")
_LANG_P = (0.25, 0.22, 0.14, 0.1, 0.1, 0.05, 0.1, 0.04)
THIRD_PARTY_AGENTS = (("2246796", "Claude (Anthropic)"), ("2248422", "Codex (OpenAI)"))
PHASES = ("Phase 0", "Phase 1", "Phase 2", "Phase 3")
# CLI customisations (2026-09-17): (entity, name GitHub shows, chance a customising CLI user uses it on a day).
# Customer-defined entities are shown as ``other`` (slash commands as ``custom``); plugins are skills that belong
# to a plugin, so every plugin use is also a skill use.
CUSTOMISATIONS: dict[str, tuple[tuple[str, str, float], ...]] = {
    "skill": (
        ("pdf", "pdf", 0.15),
        ("docx", "docx", 0.1),
        ("webapp-testing", "webapp-testing", 0.2),
        ("acme-release-notes", "other", 0.25),
        ("acme-oncall", "other", 0.15),
        ("acme-style", "other", 0.3),
        ("acme-migrations", "other", 0.1),
    ),
    "custom_agent": (
        ("acme-reviewer", "other", 0.3),
        ("acme-planner", "other", 0.2),
        ("acme-security", "other", 0.1),
    ),
    "mcp": (
        ("github-mcp-server", "github-mcp-server", 0.6),
        ("playwright", "playwright", 0.2),
        ("context7", "context7", 0.15),
        ("acme-jira", "other", 0.2),
        ("acme-datadog", "other", 0.1),
        ("azure", "azure", 0.05),
    ),
    "slash_cmd": (
        ("model", "model", 0.4),
        ("plan", "plan", 0.3),
        ("review", "review", 0.25),
        ("compact", "compact", 0.2),
        ("delegate", "delegate", 0.1),
        ("clear", "clear", 0.3),
        ("acme-deploy", "custom", 0.1),
    ),
}
# the skills that belong to a plugin: (skill entity, plugin entity, plugin name shown)
PLUGIN_SKILLS = (
    ("pdf", "document-skills", "document-skills"),
    ("docx", "document-skills", "document-skills"),
    ("acme-release-notes", "acme-release-kit", "other"),
)
# (mean interactions on an active day scaled by intensity) per archetype for each surface
# index: non_user, completion_only, chat, agent, cli_heavy, mixed
_P_COMPLETION = np.array([0, 1.0, 0.8, 0.7, 0.5, 0.85])
_P_CHAT = np.array([0, 0.0, 0.85, 0.55, 0.3, 0.6])
_P_AGENT = np.array([0, 0.0, 0.05, 0.85, 0.4, 0.45])
_P_CLI = np.array([0, 0.0, 0.02, 0.2, 0.9, 0.3])
_P_REVIEW = np.array([0, 0.05, 0.2, 0.35, 0.2, 0.3])
_P_CLOUD = np.array([0, 0.0, 0.0, 0.25, 0.1, 0.1])
_HOLIDAYS = {(1, 1), (5, 25), (7, 3), (7, 4), (9, 7), (11, 26), (11, 27), (12, 24), (12, 25), (12, 26), (12, 31)}
# the cost centres' names (see payloads.cost_center_defs), in their order
COST_CENTRE_NAMES = ("Engineering", "Data & ML", "Platform", "Mobile (retired)")
# ``hostile_names``: names an administrator (or an attacker) could type, for teams, cost centres, budgets and logins —
# spreadsheet formulas and DDE (https://owasp.org/www-community/attacks/CSV_Injection), Markdown links and remote
# images, HTML, a forged heading, a right-to-left override (https://www.unicode.org/reports/tr9/) and a very long name
LONG_NAME = "Long" + "g" * 4996  # 5,000 characters, no space to wrap at
HOSTILE_NAMES = (
    '=HYPERLINK("http://evil.example","click")',
    "\u202eexe.tnemyap 22",
    LONG_NAME,
    "=cmd|' /C calc'!A0",
    "<script>alert(1)</script>",
    "[click](http://evil.example)",
    "![x](http://evil.example/x.png)",
    "Payments\n# heading",
    "+1+1",
    "-2+3",
    "@SUM(1)",
)
HOSTILE_COST_CENTRES = (
    '=HYPERLINK("http://evil.example","click")',
    "=cmd|' /C calc'!A0",
    "\u202eexe.tnemyap 22",
    "[click](http://evil.example)\n# heading",
)
# logins stay unique and usable as query values (GitHub's own logins are letters, digits and hyphens: these are what
# an import or another host could bring); given to the heaviest users so the reports show them
HOSTILE_LOGINS = ("=2+5-simdev", "@simdev-sum", "+simdev-plus", "-simdev-minus", "\u202esimdev-rlo")
_EPOCH = dt.date(2025, 6, 1)
_INT = pl.Int64


def _ordinal(day: dt.date) -> int:
    return (day - _EPOCH).days


@dataclass(eq=False)
class Tenant:
    """A simulated enterprise; all attributes are deterministic functions of the constructor args."""

    seed: int = 7
    users: int = 400
    days: int = 120
    today: dt.date = field(default_factory=lambda: dt.datetime.now(dt.UTC).date())
    orgs: int = 3
    enterprise: str = "octo-sim"
    lag_days: int = 2  # data available up to two full UTC days before ``today``
    hostile_names: bool = False  # teams, cost centres, budgets and logins named like HOSTILE_NAMES
    # a planted runaway (login, day, factor): that user's credits on that day × factor, for the watch's tests
    # (no effect on a day the user is inactive); off by default, so the demo and data/sample are unchanged
    spike: tuple[str, dt.date, float] | None = None

    def __post_init__(self) -> None:
        self.newest = self.today - dt.timedelta(days=self.lag_days)
        self.start = self.newest - dt.timedelta(days=self.days - 1)
        self.enterprise_data_start = max(self.start, dt.date.fromisoformat(ENTERPRISE_DATA_START))
        self.org_data_start = max(self.start, dt.date.fromisoformat(ORG_DATA_START))
        self.credits_start = dt.date.fromisoformat(AI_CREDITS_FIELD_START)
        self.enterprise_id = str(4200 + self.seed % 100)
        self.org_names = [
            f"{self.enterprise}-{s}" for s in ("eng", "data", "platform", "mobile", "infra", "labs", "web", "ml")
        ][: self.orgs]
        self.org_ids = [str(90_000 + 17 * i + self.seed % 10) for i in range(self.orgs)]
        self.org_plan = ["enterprise" if i == 0 else "business" for i in range(self.orgs)]
        self._draw_users()
        self._draw_teams()
        self._draw_repos()
        self.cost_centre_names = HOSTILE_COST_CENTRES if self.hostile_names else COST_CENTRE_NAMES
        if self.hostile_names:
            self._name_hostile()

    # ------------------------------------------------------------------ static attributes
    def _rng(self, *key: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, *key])

    def _draw_users(self) -> None:
        n, rng, d = self.users, self._rng(0), self.days
        self.user_id = 10_000_000 + 13 * np.arange(n, dtype=np.int64) + self.seed % 13
        self.login = np.char.add("simdev-", np.char.zfill(np.arange(n).astype(str), 5))
        self.archetype = rng.choice(len(ARCHETYPES), n, p=_ARCH_P)
        self.primary_org = rng.choice(self.orgs, n, p=self._org_weights())
        second = rng.integers(0, self.orgs, n)
        multi = (rng.random(n) < 0.15) & (second != self.primary_org) & (self.orgs > 1)
        self.member = np.zeros((n, self.orgs), dtype=bool)
        self.member[np.arange(n), self.primary_org] = True
        self.member[np.arange(n)[multi], second[multi]] = True
        self.plan = np.array(self.org_plan)[self.primary_org]
        # seat timeline in day indexes relative to ``start`` (negative = before the window)
        joiner = rng.random(n) < 0.25
        self.seat_start = np.where(joiner, rng.integers(0, max(d, 1), n), -rng.integers(30, 400, n))
        leaver = (rng.random(n) < 0.07) & (self.seat_start + 14 < d)
        end = self.seat_start + 14 + rng.integers(0, max(d, 1), n)
        self.seat_end = np.where(leaver & (end < d), end, 10**6)
        self.pending_cancel = (rng.random(n) < 0.04) & (self.seat_end > d)
        self.first_use = self.seat_start + rng.geometric(1 / 6, n) - 1
        self.first_agent = self.first_use + rng.geometric(1 / 25, n)
        # inactive spells of 3-6 weeks, and users who stop using Copilot but keep the seat
        self.pause_from = np.where(rng.random(n) < 0.1, rng.integers(-20, max(d, 1), n), 10**6)
        self.pause_to = self.pause_from + rng.integers(21, 43, n)
        self.dormant_from = np.where(rng.random(n) < 0.05, rng.integers(0, max(d, 1), n), 10**6)
        self.engagement = rng.beta(5, 2, n)
        self.intensity = rng.lognormal(0.0, 0.8, n) * np.where(self.archetype == 3, 1.8, 1.0)
        self.ide = rng.choice(len(IDES), n, p=_IDE_P)
        self.second_ide = np.where(rng.random(n) < 0.1, (self.ide + 1) % len(IDES), -1)
        self.lang = np.stack(
            [rng.choice(len(LANGUAGES), n, p=_LANG_P), rng.choice(len(LANGUAGES), n, p=_LANG_P)], axis=1
        )
        self.lang_share = rng.uniform(0.5, 0.9, n)
        pref = rng.dirichlet(np.ones(len(MODELS)) * 0.6, n)
        self.model_p = 0.85 * pref + 0.15 / len(MODELS)
        self.third_party = (rng.random(n) < 0.08) & np.isin(self.archetype, (3, 5))
        self.copilot_app = rng.random(n) < 0.06
        extra = self._rng(5)  # attributes for the fields added June–October 2026 (earlier draws unchanged)
        self.vscode_agent_user = (self.ide == 0) & np.isin(self.archetype, (3, 4, 5)) & (extra.random(n) < 0.35)
        self.customiser = extra.uniform(0.0, 1.0, n) * (self.archetype != 1)
        # the day each user's IDE reports agent activity with its identity again (GitHub's 2026-10-06 change)
        self.ide_updated = changes.ide_updated(changes.agent_as_cli(), self.ide == 0, self._rng(6))
        # users whose client sends no usage telemetry: GitHub sees them server-side only, from 2026-06-15
        self.server_only = self._rng(7).random(n) < changes.SERVER_SIDE_SHARE

    def _org_weights(self) -> np.ndarray:
        w = np.array([1.0 / (i + 1) ** 0.7 for i in range(self.orgs)])
        return w / w.sum()

    def _draw_teams(self) -> None:
        """Org teams (some nested, some under 5 seats) and a few enterprise teams."""
        rng, n = self._rng(1), self.users
        per_org = max(5, round(n / 60))
        names = (
            "api",
            "web",
            "mobile",
            "data",
            "infra",
            "ml",
            "security",
            "payments",
            "search",
            "growth",
            "devex",
            "qa",
            "docs",
            "billing",
            "identity",
            "edge",
        )
        rows: list[dict[str, Any]] = []
        for o in range(self.orgs):  # a handful of teams: a loop over teams, not over data rows
            for t in range(per_org):
                parent = None
                if t >= 3 and rng.random() < 0.35:
                    parent = len(rows) - t + int(rng.integers(0, 3))
                slug = f"{names[t % len(names)]}{'' if t < len(names) else t // len(names)}"
                rows.append({"org": o, "slug": slug, "parent": parent})
        ent = [{"org": -1, "slug": f"ent:{s}", "parent": None} for s in ("platform-guild", "ai-champions")]
        rows += ent
        self.team_org = np.array([r["org"] for r in rows])
        self.team_slug = np.array([r["slug"] for r in rows])
        self.team_name = np.array([str(r["slug"]).title() for r in rows])
        self.team_parent = np.array([-1 if r["parent"] is None else r["parent"] for r in rows])
        self.team_id = 7_000 + 11 * np.arange(len(rows), dtype=np.int64)
        n_org_teams = self.orgs * per_org
        # Zipf-like weights so that some teams stay under 5 seated users
        weight = 1.0 / (1 + np.arange(per_org)) ** 1.1
        weight = np.tile(weight / weight.sum(), self.orgs)
        seg = np.cumsum(weight) - np.repeat(np.arange(self.orgs), per_org)  # within-org cumulative
        seg = seg + np.repeat(np.arange(self.orgs), per_org)
        slots = rng.choice(4, n, p=(0.15, 0.5, 0.25, 0.1))
        pairs_u, pairs_t = [], []
        for k in range(3):
            has = slots > k
            u = np.flatnonzero(has)
            pick = np.searchsorted(seg, self.primary_org[u] + rng.random(u.size) * 0.999999)
            pairs_u.append(u)
            pairs_t.append(np.minimum(pick, n_org_teams - 1))
        ent_u = np.flatnonzero(rng.random(n) < 0.12)
        pairs_u.append(ent_u)
        pairs_t.append(n_org_teams + rng.integers(0, len(ent), ent_u.size))
        m = pl.DataFrame({"u": np.concatenate(pairs_u), "t": np.concatenate(pairs_t)}).unique().sort("u", "t")
        # 5 % of members move from their team to another team of the same org mid-window
        mover = self._rng(2).random(m.height) < 0.05
        self.memberships = m.with_columns(
            moved_on=pl.Series(np.where(mover, self._rng(3).integers(1, max(self.days, 2), m.height), 10**6)),
        )

    def _draw_repos(self) -> None:
        per_org = 4 + self.users // 60
        self.repo_org = np.repeat(np.arange(self.orgs), per_org)
        self.repo_id = 500_000 + 3 * np.arange(self.repo_org.size, dtype=np.int64)
        self.repo_name = np.array(
            [f"{self.org_names[o]}/service-{i % per_org:02d}" for i, o in enumerate(self.repo_org)]
        )
        self.repo_weight = self._rng(4).lognormal(0, 1, self.repo_org.size)

    def _name_hostile(self) -> None:
        """Hostile team names (the first organization's teams, largest first, so reports show them) and logins
        (the heaviest users); slugs and ids stay as GitHub forms them, so every path and join still works."""
        org_teams = np.flatnonzero(self.team_org >= 0)[: len(HOSTILE_NAMES)]  # org by org, largest team first
        names = self.team_name.astype(object)
        names[org_teams] = HOSTILE_NAMES[: org_teams.size]
        self.team_name = np.array(names.tolist())
        logins = self.login.astype(object)
        logins[np.argsort(-self.intensity, kind="stable")[: len(HOSTILE_LOGINS)]] = HOSTILE_LOGINS
        self.login = np.array(logins.tolist())

    # ------------------------------------------------------------------ helpers
    def day_index(self, day: dt.date) -> int:
        return (day - self.start).days

    def seated(self, day: dt.date) -> np.ndarray:
        i = self.day_index(day)
        return (self.seat_start <= i) & (i < self.seat_end)

    def has_data(self, day: dt.date, scope_kind: str) -> bool:
        first = self.enterprise_data_start if scope_kind == "enterprise" else self.org_data_start
        return first <= day <= self.newest

    def team_rows(self, day: dt.date) -> pl.DataFrame:
        """Direct team memberships valid on ``day`` (a mover switches to the next team of the org)."""
        i = self.day_index(day)
        m = self.memberships
        n_org_teams = int((self.team_org >= 0).sum())
        per_org = max(1, n_org_teams // max(self.orgs, 1))
        moved = (pl.col("moved_on") <= i) & (pl.col("t") < n_org_teams)
        nxt = (pl.col("t") // per_org) * per_org + (pl.col("t") % per_org + 1) % per_org
        return m.with_columns(t=pl.when(moved).then(nxt).otherwise(pl.col("t"))).unique(["u", "t"])

    # ------------------------------------------------------------------ stage 1: flags
    @functools.lru_cache(maxsize=512)  # noqa: B019 - a tenant lives as long as its server
    def flags(self, day: dt.date) -> dict[str, np.ndarray]:
        """Boolean arrays over all users: active and the ``used_*`` surfaces on ``day``."""
        n, i = self.users, self.day_index(day)
        rng = self._rng(10, _ordinal(day))
        r = rng.random((8, n))
        a = self.archetype
        eligible = (
            self.seated(day)
            & (a != 0)
            & (i >= self.first_use)
            & ~((self.pause_from <= i) & (i < self.pause_to))
            & (i < self.dormant_from)
        )
        t = _ordinal(day)
        growth = 0.45 + 0.55 / (1 + np.exp(-(t - 250) / 45))  # adoption grows over months
        weekday = 1.0 if day.weekday() < 5 else 0.18
        holiday = 0.3 if (day.month, day.day) in _HOLIDAYS else 1.0
        p_active = self.engagement * growth * weekday * holiday
        active = eligible & (r[0] < p_active)
        agent_ok = i >= self.first_agent
        chat = active & (r[1] < _P_CHAT[a])
        agent = active & agent_ok & (r[2] < _P_AGENT[a] * min(1.0, 0.5 + growth))
        cli = active & (r[3] < _P_CLI[a])
        completion = active & ((r[4] < _P_COMPLETION[a]) | ~(chat | agent | cli))
        since = {k: day >= dt.date.fromisoformat(v) for k, v in FIELD_STARTS.items()}
        e = self._rng(11, t).random((2, n))  # GitHub's definition changes (simulate/changes.py)
        # users client telemetry misses: absent before 2026-06-15, then reported server-side (credits only)
        hidden = active & self.server_only
        server_side = hidden & (day >= changes.server_side_users())
        # Copilot app users with no other activity that day: in the app figures from 2026-07-17, counted as active
        # users (and listed in the per-user reports) only from 2026-07-28
        app_only = (
            eligible
            & ~active
            & self.copilot_app
            & (e[0] < changes.APP_ONLY_P * weekday)
            & since["copilot_app_aggregate"]
        )
        # from 2026-10-06 until the user's IDE updates, part of agent-mode days are reported as CLI
        sdk = agent & (np.datetime64(day, "D") < self.ide_updated) & (e[1] < changes.AGENT_AS_CLI_P)
        sdk &= day >= changes.agent_as_cli()
        return {
            "active": active,
            "completion": completion,
            "chat": chat,
            "agent": agent,
            "cli": cli,
            "review_active": active & (r[5] < _P_REVIEW[a]),
            "review_passive": active & (r[6] < _P_REVIEW[a] * 1.5),
            "cloud_agent": active & agent_ok & (r[7] < _P_CLOUD[a]),
            # Copilot app users (reported from 2026-07-17) and the VS Code Agents window (from 2026-09-11)
            "copilot_app": (active | app_only) & self.copilot_app & since["copilot_app_aggregate"],
            "vscode_agent": agent & self.vscode_agent_user & since["vscode_agent"] & ~hidden,
            # what GitHub's metrics report (ground truth above; billing charges the truth)
            "server_side": server_side,
            "app_only": app_only,
            "listed": (active & ~hidden) | server_side | (app_only & (day >= changes.app_users_counted())),
            "agent_sdk": sdk,
            "reported_agent": agent & ~sdk & ~hidden,
            "reported_cli": (cli | sdk) & ~hidden,
        }

    def window_flags(self, day: dt.date, length: int, key: str = "active") -> np.ndarray:
        """Any-of ``key`` over the ``length`` days ending at ``day`` (distinct users, never summed)."""
        acc = np.zeros(self.users, dtype=bool)
        for k in range(length):  # a loop over days, each step vectorised over users
            acc |= self.flags(day - dt.timedelta(days=k))[key]
        return acc

    # ------------------------------------------------------------------ stage 2: counts
    @functools.lru_cache(maxsize=64)  # noqa: B019
    def cells(self, day: dt.date) -> pl.DataFrame:
        """Long activity table of the day's active users.

        Columns: ``u`` (user index), ``feature``, ``model`` (null for completions), ``lang``,
        ``interactions``, ``generations``, ``acceptances``, ``loc_suggested_add``, ``loc_suggested_del``,
        ``loc_added``, ``loc_deleted``, ``credits`` (ground-truth credits of the cell, noise applied).
        """
        f = self.flags(day)
        rng = self._rng(20, _ordinal(day))
        inten = self.intensity
        # (feature, surface flag, mean interactions per active day, generations per interaction)
        plan = (
            ("code_completion", "completion", 0.0, 28.0),
            ("chat_panel_ask_mode", "chat", 3.0, 1.2),
            ("chat_panel_edit_mode", "chat", 0.8, 1.5),
            ("chat_inline", "chat", 1.2, 1.0),
            ("chat_panel_custom_mode", "chat", 0.15, 1.2),
            ("chat_panel_plan_mode", "agent", 0.4, 1.0),
            ("chat_panel_unknown_mode", "chat", 0.08, 1.0),
            ("chat_panel_agent_mode", "agent", 4.0, 1.1),
            ("agent_edit", "agent", 0.0, 7.0),
            ("copilot_cli", "cli", 5.0, 1.3),
            ("others", "active", 0.05, 0.5),
        )
        parts = []
        for feature, flag, mean_i, gen_per in plan:  # a loop over 11 features, vectorised over users
            u = np.flatnonzero(f[flag])
            if u.size == 0:
                continue
            s = inten[u]
            if mean_i > 0:
                inter = rng.poisson(mean_i * s)
                if feature in ("chat_panel_ask_mode", "chat_panel_agent_mode", "copilot_cli"):
                    inter = inter + 1
                gen = rng.poisson(gen_per * inter)
            else:
                inter = np.zeros(u.size, dtype=np.int64)
                gen = rng.poisson(gen_per * s) + (1 if feature == "code_completion" else 0)
            keep = (inter > 0) | (gen > 0)
            u, inter, gen = u[keep], inter[keep], gen[keep]
            if u.size == 0:
                continue
            if feature == "code_completion":
                models = np.full((u.size, 1), -1)
                split_i, split_g = inter[:, None], gen[:, None]
            else:
                split_i = rng.multinomial(inter, self.model_p[u])
                split_g = rng.multinomial(gen, self.model_p[u])
                models = np.broadcast_to(np.arange(len(MODELS)), split_i.shape)
            uu = np.broadcast_to(u[:, None], split_i.shape)
            parts.append(
                pl.DataFrame(
                    {
                        "u": uu.ravel(),
                        "feature": feature,
                        "m": models.ravel(),
                        "interactions": split_i.ravel(),
                        "generations": split_g.ravel(),
                    }
                )
            )
        if not parts:
            return _empty_cells()
        c = pl.concat(parts).filter((pl.col("interactions") > 0) | (pl.col("generations") > 0))
        k = c.height
        g = c["generations"].to_numpy()
        accept_p = np.where(c["feature"].to_numpy() == "code_completion", 0.3, 0.55)
        acc = rng.binomial(g, accept_p)
        agentish = np.isin(c["feature"].to_numpy(), ("agent_edit", "chat_panel_agent_mode", "copilot_cli"))
        sugg_add = rng.poisson(np.where(agentish, 0.0, 3.5) * g)
        added = np.where(agentish, rng.poisson(9.0 * g), rng.poisson(3.0 * acc))
        deleted = np.where(agentish, rng.poisson(2.5 * g), 0)
        sugg_del = np.where(agentish, 0, rng.poisson(0.2 * g))
        # the CLI suggests lines too (its own generator: the other draws of the day do not change); GitHub reports
        # them from 2026-07-02 (:func:`changes.as_reported`)
        cli_rng, is_cli = self._rng(23, _ordinal(day)), c["feature"].to_numpy() == "copilot_cli"
        sugg_add = np.where(is_cli, cli_rng.poisson(6.0 * g), sugg_add)
        sugg_del = np.where(is_cli, cli_rng.poisson(1.5 * g), sugg_del)
        # language split: the user's first language gets ``lang_share`` of each cell
        u = c["u"].to_numpy()
        first = rng.random(k) < self.lang_share[u]
        lang = np.where(first, self.lang[u, 0], self.lang[u, 1])
        model_cost = np.append(np.array(list(MODEL_CREDITS.values())), 0.0)  # index -1 -> 0
        feat_cost = c["feature"].replace_strict(FEATURE_CREDITS, return_dtype=pl.Float64).to_numpy()
        m = c["m"].to_numpy()
        noise = rng.lognormal(0.0, 0.12, self.users)[u]  # one factor per user-day
        credits = (c["interactions"].to_numpy() * model_cost[m] + g * feat_cost) * noise
        out = c.with_columns(
            model=pl.Series(np.array((*MODELS, ""))[m]).replace("", None),
            lang=pl.Series(np.array(LANGUAGES)[lang]),
            acceptances=pl.Series(acc, dtype=_INT),
            loc_suggested_add=pl.Series(sugg_add, dtype=_INT),
            loc_suggested_del=pl.Series(sugg_del, dtype=_INT),
            loc_added=pl.Series(added, dtype=_INT),
            loc_deleted=pl.Series(deleted, dtype=_INT),
            credits=pl.Series(credits),
        ).drop("m")
        if day >= dt.date.fromisoformat(FIELD_STARTS["copilot_app_user"]):
            out = pl.concat([out, self._app_cells(day, f["copilot_app"])]).sort("u", maintain_order=True)
        return self._spiked(day, out)

    def _spiked(self, day: dt.date, cells: pl.DataFrame) -> pl.DataFrame:
        """``cells`` with the planted spike applied (:attr:`spike`): billing and metrics both see it."""
        if self.spike is None or day != self.spike[1]:
            return cells
        login, _, factor = self.spike
        u = np.flatnonzero(self.login == login)
        hit = pl.col("u").is_in(u.tolist())
        return cells.with_columns(pl.when(hit).then(pl.col("credits") * factor).otherwise("credits").alias("credits"))

    def _app_cells(self, day: dt.date, app: np.ndarray) -> pl.DataFrame:
        """Copilot app activity in the feature, model and language roll-ups (from 2026-07-28): one cell per
        (user, model), drawn from its own generator so the IDE/CLI cells of a day do not change."""
        rng = self._rng(21, _ordinal(day))
        u = np.flatnonzero(app)
        inter = rng.poisson(3.0 * self.intensity[u]) + 1
        split_i = rng.multinomial(inter, self.model_p[u])
        split_g = rng.multinomial(rng.poisson(1.5 * inter), self.model_p[u])
        uu = np.broadcast_to(u[:, None], split_i.shape).ravel()
        models = np.broadcast_to(np.arange(len(MODELS)), split_i.shape).ravel()
        i, g = split_i.ravel(), split_g.ravel()
        keep = (i > 0) | (g > 0)
        uu, models, i, g = uu[keep], models[keep], i[keep], g[keep]
        acc = rng.binomial(g, 0.55)
        first = rng.random(uu.size) < self.lang_share[uu]
        noise = rng.lognormal(0.0, 0.12, self.users)[uu]
        credits = (i * np.array(list(MODEL_CREDITS.values()))[models] + g * FEATURE_CREDITS["copilot_app"]) * noise
        return pl.DataFrame(
            {
                "u": uu.astype(np.int64),
                "feature": "copilot_app",
                "interactions": i.astype(np.int64),
                "generations": g.astype(np.int64),
                "model": np.array(MODELS)[models],
                "lang": np.array(LANGUAGES)[np.where(first, self.lang[uu, 0], self.lang[uu, 1])],
                "acceptances": acc.astype(np.int64),
                "loc_suggested_add": np.zeros(uu.size, np.int64),
                "loc_suggested_del": np.zeros(uu.size, np.int64),
                "loc_added": rng.poisson(8.0 * g).astype(np.int64),
                "loc_deleted": rng.poisson(2.0 * g).astype(np.int64),
                "credits": credits,
            },
            schema=_empty_cells().schema,
        ).select(_CELL_ORDER)

    @functools.lru_cache(maxsize=64)  # noqa: B019
    def customisations(self, day: dt.date) -> pl.DataFrame:
        """CLI customisations used on ``day`` (from 2026-09-17): ``u, kind, entity, name, interaction_count``, one
        row per (user, entity); ``name`` is what GitHub shows (customer-defined entities as ``other``/``custom``).
        Plugin rows repeat skill rows (plugins are a subset of skills); MCP counts are connection attempts."""
        if day < dt.date.fromisoformat(FIELD_STARTS["cli_customisation"]):
            return pl.DataFrame(schema=_CUSTOM_SCHEMA)
        rng = self._rng(22, _ordinal(day))
        u = np.flatnonzero(self.flags(day)["cli"])
        parts = []
        for kind, catalogue in CUSTOMISATIONS.items():  # 4 kinds x a few entities, vectorised over users
            p = np.array([c[2] for c in catalogue])
            used = rng.random((u.size, p.size)) < p[None, :] * (0.2 + 0.8 * self.customiser[u, None])
            mean = 1.0 if kind == "mcp" else 3.0 * self.intensity[u, None]
            count = rng.poisson(np.broadcast_to(mean, used.shape)) + 1
            rows, cols = np.nonzero(used)
            parts.append(
                pl.DataFrame(
                    {
                        "u": u[rows].astype(np.int64),
                        "kind": kind,
                        "entity": np.array([c[0] for c in catalogue])[cols],
                        "name": np.array([c[1] for c in catalogue])[cols],
                        "interaction_count": count[rows, cols].astype(np.int64),
                    },
                    schema=_CUSTOM_SCHEMA,
                )
            )
        skills = parts[0]
        plugin_of = pl.DataFrame(PLUGIN_SKILLS, schema=["entity", "plugin", "plugin_name"], orient="row")
        plugins = (
            skills.join(plugin_of, on="entity")
            .group_by("u", "plugin", "plugin_name")
            .agg(pl.col("interaction_count").sum())
            .select(
                "u", kind=pl.lit("plugin"), entity="plugin", name="plugin_name", interaction_count="interaction_count"
            )
        )
        return pl.concat([*parts, plugins]).sort("u", "kind", "entity")

    @functools.lru_cache(maxsize=64)  # noqa: B019
    def reported_cells(self, day: dt.date) -> pl.DataFrame:
        """:meth:`cells` as GitHub's metrics report them on ``day`` (:func:`changes.as_reported`); credits stay
        the ground truth (``ai_credits_used`` is :meth:`user_credits`, under-counted before 2026-07-02)."""
        return changes.as_reported(self.cells(day), day, self.flags(day)["agent_sdk"], self._rng(24, _ordinal(day)))

    def user_credits(self, day: dt.date) -> pl.DataFrame:
        """Per (user index, model) credits of ``day`` (what billing charges); model null for unbilled completions."""
        return self.cells(day).group_by("u", "model").agg(pl.col("credits").sum())

    def phase(self, day: dt.date) -> np.ndarray:
        """``ai_adoption_phase.phase_number`` per user over the 28 days ending at ``day``."""
        active = self.window_flags(day, 28)
        agent = self.window_flags(day, 28, "agent")
        multi = self.window_flags(day, 28, "cloud_agent") | (agent & self.third_party)
        return np.select([multi & agent, agent, active], [3, 2, 1], 0)


_CELL_ORDER = (
    "u",
    "feature",
    "interactions",
    "generations",
    "model",
    "lang",
    "acceptances",
    "loc_suggested_add",
    "loc_suggested_del",
    "loc_added",
    "loc_deleted",
    "credits",
)
_CUSTOM_SCHEMA = {
    "u": _INT,
    "kind": pl.String,
    "entity": pl.String,
    "name": pl.String,
    "interaction_count": _INT,
}


def _empty_cells() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "u": _INT,
            "feature": pl.String,
            "interactions": _INT,
            "generations": _INT,
            "model": pl.String,
            "lang": pl.String,
            "acceptances": _INT,
            "loc_suggested_add": _INT,
            "loc_suggested_del": _INT,
            "loc_added": _INT,
            "loc_deleted": _INT,
            "credits": pl.Float64,
        }
    )


def stable_hash(*parts: object) -> int:
    """A 64-bit hash that does not change between Python processes (``hash()`` is salted)."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")
