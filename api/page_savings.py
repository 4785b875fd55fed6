"""The public page's section for a savings envelope (reverse PB), in French and English.

Target vs savings reached and the overshoot; one bar per sector (the part saved, the
spending left, the sector's limit as a marker line); then the lines as votes to cut, in
the same chart and table as a budget envelope with "cut" wording, each kept line with the
reason it was kept. Data: ``envelopes[i].savings`` of :func:`api.results_view.results_document`.
"""

from __future__ import annotations

from html import escape
from typing import Any

from api.i18n import fmt_int, fmt_money, fmt_pct, reason_text, rule_text

CUT = "#b3541e"
LEFT = "#c9d1d9"

SAVINGS_TEXT: dict[str, dict[str, str]] = {
    "fr": {
        "target": "Objectif d'économies", "saved": "Économies réalisées", "overshoot": "Dépassement",
        "sectors": "Dépenses par secteur, avant et après les suppressions",
        "sector_bar": "Secteur", "before": "avant", "after": "après", "lines_cut": "ligne(s) supprimée(s) sur",
        "limit": "plafond", "cut_part": "supprimé", "left_part": "reste",
        "min_sectors": "Chaque bulletin devait proposer des suppressions dans au moins {n} secteurs.",
        # overrides of the page's words for the chart and the table
        "cost": "Économie si supprimée", "funded": "Supprimée", "funded_legend": "supprimée",
        "not_funded_legend": "gardée", "funded_count": "ligne(s) supprimée(s)", "votes": "Voix pour supprimer",
        "budget_line": "Objectif atteint ici (par ordre de voix)", "chart_title": "Voix pour supprimer chaque ligne",
        "projects_table": "Lignes de dépense", "project": "Ligne",
    },
    "en": {
        "target": "Savings target", "saved": "Savings reached", "overshoot": "Overshoot",
        "sectors": "Spending per sector, before and after the cuts",
        "sector_bar": "Sector", "before": "before", "after": "after", "lines_cut": "line(s) cut of",
        "limit": "limit", "cut_part": "cut", "left_part": "left",
        "min_sectors": "Each ballot had to propose cuts in at least {n} sectors.",
        "cost": "Saved if cut", "funded": "Cut", "funded_legend": "cut", "not_funded_legend": "kept",
        "funded_count": "line(s) cut", "votes": "Votes to cut",
        "budget_line": "Target reached here (in order of votes)", "chart_title": "Votes to cut each line",
        "projects_table": "Spending lines", "project": "Line",
    },
}

# why a line was or was not cut (engine/rules/cuts.py CUT_REASONS)
CUT_REASON_TEXT: dict[str, dict[str, str]] = {
    "fr": {"cut": "supprimée dans l'ordre des voix, nécessaire pour atteindre l'objectif",
           "cut_optimal": "fait partie des suppressions les moins contestées qui atteignent l'objectif",
           "not_needed": "gardée : l'objectif était déjà atteint",
           "not_in_optimum": "gardée : la supprimer ajouterait de l'opposition ou du dépassement",
           "sector_limit": "gardée : son secteur avait atteint son plafond",
           "below_threshold": "gardée : personne n'a voté pour la supprimer"},
    "en": {"cut": "cut in order of votes, needed to reach the target",
           "cut_optimal": "part of the least-opposed set of cuts reaching the target",
           "not_needed": "kept: the target was already reached",
           "not_in_optimum": "kept: cutting it would add opposition or overshoot",
           "sector_limit": "kept: its sector had reached its limit",
           "below_threshold": "kept: nobody voted to cut it"},
}

RULE_WORDS = {"fr": {"cuts-greedy": "suppressions par ordre de voix",
                     "cuts-exact": "suppressions les moins contestées"},
              "en": {"cuts-greedy": "cuts in order of votes", "cuts-exact": "least-opposed cuts"}}


def cut_reason_text(reason: str, lang: str) -> str:
    """The page's words for why a line was or was not cut."""
    return CUT_REASON_TEXT.get(lang, CUT_REASON_TEXT["en"]).get(reason) or reason_text(reason, lang)


def sector_bars(sav: dict[str, Any], s: dict[str, str], lang: str, currency: str, env_id: str) -> str:
    """One bar per sector: saved part and spending left, the limit (if any) as a marker."""
    from api.page import bar_svg

    out = [f'<h3>{escape(s["sectors"])}</h3>']
    for r in sav["sectors"]:
        money = lambda n: fmt_money(n, currency, lang)  # noqa: E731
        marker = None
        if r["max_amount"] is not None:
            marker = (float(r["max_amount"]), f'{s["limit"]} {money(r["max_amount"])}')
        label = (f'{s["sector_bar"]} {r["sector"]}: {s["before"]} {money(r["spending_before"])}, '
                 f'{s["after"]} {money(r["spending_after"])}')
        share = fmt_pct(r["saved"] / r["spending_before"], lang) if r["spending_before"] else ""
        limit = f' ({s["limit"]} {r["max_cuts"]})' if r["max_cuts"] is not None else ""
        out.append(
            f'<div class="sector" data-sector="{escape(r["sector"])}" data-saved="{r["saved"]}">'
            f'<p><strong>{escape(r["sector"])}</strong> — {escape(s["before"])} {money(r["spending_before"])}, '
            f'{escape(s["after"])} {money(r["spending_after"])} (−{money(r["saved"])}, {share}) — '
            f'{r["lines_cut"]} {escape(s["lines_cut"])} {r["lines"]}{escape(limit)}</p>'
            + bar_svg([(r["saved"], CUT, s["cut_part"]), (r["spending_after"], LEFT, s["left_part"])],
                      r["spending_before"], label, marker, ident=f'sector-{env_id}-{r["sector"]}')
            + "</div>")
    return "".join(out)


def savings_envelope_section(env: dict[str, Any], t: dict[str, str], lang: str, currency: str, open_: bool) -> str:
    """The whole section of a savings envelope (module docstring)."""
    from api.page import envelope_chart, projects_table

    s = SAVINGS_TEXT.get(lang, SAVINGS_TEXT["en"])
    sav = env["savings"]
    c = t["colon"]
    money = lambda n: fmt_money(n, currency, lang)  # noqa: E731
    words_rule = RULE_WORDS.get(lang, RULE_WORDS["en"]).get(env["rule"])
    rule = f'{words_rule} [{env["rule"]}]' if words_rule else rule_text(env["rule"], lang)
    head = (f'<p class="savings" data-target="{sav["target"]}" data-saved="{sav["saved"]}">'
            f'{escape(s["target"])}{c} {money(sav["target"])} — {escape(s["saved"])}{c} '
            f'<strong>{money(sav["saved"])}</strong> — {escape(s["overshoot"])}{c} {money(sav["overshoot"])} — '
            f'<span class="funded-count">{env["projects_funded"]}</span> {escape(s["funded_count"])} — '
            f'{escape(t["ballots"])}{c} {fmt_int(env["ballots"]["total"], lang)} — {escape(t["rule"])}{c} '
            f'<span class="rule" data-rule="{escape(env["rule"])}">'
            f'{escape(rule)}</span></p>')
    if sav.get("min_sectors", 0) > 1:
        head += f'<p class="muted">{escape(s["min_sectors"].format(n=sav["min_sectors"]))}</p>'
    words = {**t, **{k: v for k, v in s.items() if k in t}}
    lines = {**env, "currency": currency}
    table = projects_table(lines, words, lang, currency, cut_reason_text, every_reason=True)
    eid = escape(env["id"])
    return (f'<section class="envelope savings-envelope" id="env-{eid}" aria-labelledby="h-env-{eid}">'
            f'<h2 id="h-env-{eid}">{escape(env["name"])}</h2>{head}'
            f'{sector_bars(sav, s, lang, currency, env["id"])}'
            f'<details{" open" if open_ else ""}><summary>{escape(s["chart_title"])} / '
            f'{escape(s["projects_table"])}</summary>{envelope_chart(lines, words, lang)}{table}</details></section>')
