"""The public results page: server-rendered HTML with inline SVG charts (no JavaScript).

Pure functions from the results document (:mod:`api.results_view`) and the publication
facts (tree head, manifest hash) to HTML text. Every chart has a table with the same
numbers; SVGs carry ``role="img"`` with a title and description; colours pass WCAG AA
contrast against white, and funded projects are marked by text as well as by colour.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from html import escape
from typing import Any
from urllib.parse import urlencode

from api.i18n import LANGS, TEXT, fmt_int, fmt_money, fmt_pct, reason_text, rule_text

FUNDED = "#0b6e4f"
NOT_FUNDED = "#6b7785"
BUDGET_LINE = "#b3261e"
CURRENT = ' aria-current="true"'

CSS = """
:root{--fg:#1b1f24;--muted:#4a5561;--accent:#0b5cad;--ok:#0b6e4f;--bad:#b3261e;--bg:#fff;--line:#d0d7de}
*{box-sizing:border-box}
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);margin:0}
header,main,footer{max-width:70rem;margin:0 auto;padding:0 1rem}
header{border-bottom:1px solid var(--line);padding-top:1rem}
a{color:var(--accent)}
a:focus,button:focus,input:focus,summary:focus{outline:3px solid #f59e0b;outline-offset:2px}
nav ul{list-style:none;padding:0;display:flex;gap:1rem;flex-wrap:wrap}
h1{font-size:1.6rem;margin:.2rem 0}
h2{font-size:1.3rem;margin-top:2rem;border-bottom:1px solid var(--line)}
table{border-collapse:collapse;margin:.5rem 0;font-variant-numeric:tabular-nums}
th,td{border:1px solid var(--line);padding:.25rem .5rem;text-align:right;vertical-align:top}
th[scope=row],td.text{text-align:left}
caption{text-align:left;font-weight:600;padding:.3rem 0}
tr.funded td,tr.funded th{background:#e6f4ee}
.muted{color:var(--muted)}
.hash{font-family:ui-monospace,monospace;word-break:break-all}
.ok{color:var(--ok);font-weight:600}.bad{color:var(--bad);font-weight:600}
.cards{display:flex;gap:1.5rem;flex-wrap:wrap}
.card{flex:1 1 18rem;border:1px solid var(--line);border-radius:.4rem;padding:.5rem 1rem}
svg{max-width:100%;height:auto}
label{display:block;font-weight:600}
input[type=text]{font:inherit;padding:.3rem;width:18rem;max-width:100%}
button{font:inherit;padding:.3rem .9rem;background:var(--accent);color:#fff;border:0;border-radius:.3rem}
pre{white-space:pre-wrap;word-break:break-all;background:#f6f8fa;padding:.5rem;border:1px solid var(--line)}
.table-wrap{max-width:100%;overflow-x:auto}
table.projects{width:100%}
table.projects td.text{min-width:8rem;overflow-wrap:anywhere}
.chart{margin:.5rem 0;font-size:.95rem}
.chart .bar{display:grid;grid-template-columns:minmax(6rem,14rem) 1fr;gap:.5rem;align-items:center;margin:2px 0}
.chart .label{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.chart .label:hover,.chart .label:focus{white-space:normal;overflow:visible}
.chart .track{display:flex;align-items:center;gap:.3rem;min-width:0}
.chart i{height:1rem;background:#6b7785;flex:none;width:calc(var(--w) - 4rem)}
.chart .bar.funded i{background:#0b6e4f}
.chart .budget-line{border-top:2px dashed #b3261e;color:#b3261e;font-size:.9rem;text-align:right;margin:.2rem 0}
.quota-list{margin:.2rem 0 0 1rem}
@media (max-width:40rem){th,td{padding:.2rem .3rem}table.projects .channel{display:none}
.chart .bar{grid-template-columns:minmax(5rem,9rem) 1fr}}
.chart.grades .track svg{width:calc(100% - 8rem);height:auto}
.chart .median-grade{font-size:.9rem}
.legend span{display:inline-block;width:.9rem;height:.9rem;vertical-align:middle;margin:0 .3rem 0 .8rem}
"""


def _link(path: str, lang: str, **params: str) -> str:
    q = urlencode({**params, "lang": lang})
    return f"{path}?{q}"


def bar_svg(parts: list[tuple[float, str, str]], total: float, label: str, marker: tuple[float, str] | None = None,
            ident: str = "bar") -> str:
    """A horizontal stacked bar: ``parts`` = (value, colour, text); optional marker line, its
    label written below the SVG as page text (SVG text shrinks with the SVG on a phone)."""
    w, h = 600, 28
    x = 0.0
    rects = []
    for value, colour, text in parts:
        width = w * value / total if total else 0
        rects.append(f'<rect x="{x:.1f}" y="0" width="{width:.1f}" height="{h}" fill="{colour}">'
                     f"<title>{escape(text)}</title></rect>")
        x += width
    mk = ""
    if marker is not None:
        mx = w * marker[0] / total if total else 0
        mk = (f'<line x1="{mx:.1f}" x2="{mx:.1f}" y1="-4" y2="{h + 4}" stroke="{BUDGET_LINE}" stroke-width="3"/>'
)
    return (f'<svg id="{ident}" role="img" aria-label="{escape(label)}" viewBox="-2 -6 {w + 4} {h + 26}" '
            f'width="{w}" height="{h + 20}"><title>{escape(label)}</title>'
            f'<rect x="0" y="0" width="{w}" height="{h}" fill="#eef1f4"/>{"".join(rects)}{mk}</svg>'
            + (f'<p class="marker-label" style="color:{BUDGET_LINE};margin:0">▏{escape(marker[1])}</p>'
               if marker is not None else ""))


def budget_line_rank(projects: list[dict[str, Any]], budget: int) -> int | None:
    """0-based row above which the budget line is drawn: the first project, in rank order,
    whose cumulative cost (counting every project before it) exceeds the budget."""
    cum = 0
    for i, p in enumerate(projects):
        cum += p["cost"]
        if cum > budget:
            return i
    return None


def envelope_chart(env: dict[str, Any], t: dict[str, str], lang: str) -> str:
    """Votes per project as HTML bars (text at the page's own size, so it stays readable on a
    phone): each row labelled by the project's title, cut with an ellipsis when long and shown
    whole on hover/focus (and in ``title``); funded rows marked by "✓" and colour; a dashed
    line where the budget would run out funding in rank order."""
    projects = env["projects"]
    max_votes = max((p["votes_total"] for p in projects), default=0) or 1
    cut = budget_line_rank(projects, env["budget"])
    eid = escape(env["id"])
    out = [f'<figure class="chart" id="chart-{eid}" role="group" aria-labelledby="chart-{eid}-t" '
           f'aria-describedby="chart-{eid}-d"><figcaption id="chart-{eid}-t">{escape(t["chart_title"])} — '
           f'{escape(env["name"])}</figcaption><p class="muted" id="chart-{eid}-d">{escape(t["chart_desc"])}</p>']
    for i, p in enumerate(projects):
        if i == cut:
            out.append(f'<div class="budget-line">{escape(t["budget_line"])} '
                       f'({escape(fmt_money(env["budget"], env.get("currency", "EUR"), lang))})</div>')
        state = t["funded_legend"] if p["selected"] else t["not_funded_legend"]
        full = f'{p["id"]} {p["title"]}: {fmt_int(p["votes_total"], lang)} {t["votes"].lower()}, {state}'
        pct = 100 * p["votes_total"] / max_votes
        out.append(
            f'<div class="bar{" funded" if p["selected"] else ""}" data-project="{escape(p["id"])}" '
            f'data-votes="{p["votes_total"]}"><span class="label" tabindex="0" title="{escape(full)}">'
            f'{"✓ " if p["selected"] else ""}{escape(p["title"] or p["id"])}</span><span class="track">'
            f'<i style="--w:{pct:.0f}%"></i>'
            f'{fmt_int(p["votes_total"], lang)}{for_against_note(p, t, lang)}</span></div>'
        )
    out.append("</figure>")
    return "".join(out)


def why_not_funded(p: dict[str, Any], t: dict[str, str], lang: str, titles: dict[str, str]) -> str:
    """The reason cell (escaped HTML): the reason in words, and for a lost tie the winners
    by id with their titles ("did not fit after losing a tie — tie lost to AR11-003 (Title)")."""
    text = escape(reason_text(p.get("reason", ""), lang))
    winners = p.get("tie_lost_to") or []
    if winners:
        names = ", ".join(f"{escape(w)} ({escape(titles[w])})" if w in titles else escape(w) for w in winners)
        text += f' — <span class="tie-winner">{escape(t["tie_lost_to"])} {names}</span>'
    return text


def projects_table(env: dict[str, Any], t: dict[str, str], lang: str, currency: str,
                   reasons: Callable[[str, str], str] = reason_text, every_reason: bool = False) -> str:
    """The HTML table of one envelope's projects: votes, cost, rank, funded or why not
    (``reasons``/``every_reason``: a savings envelope's words, shown for cut lines too)."""
    titles = {p["id"]: p["title"] for p in env["projects"]}
    rows = []
    for p in env["projects"]:
        pn = (f' <abbr title="{escape(t["popular_abbr"])}">{escape(t["popular_short"])}</abbr>'
              if p["popular_neighbourhood"] else "")
        if p["selected"] and not every_reason:
            shown = ""
        elif reasons is reason_text:
            shown = why_not_funded(p, t, lang, titles)
        else:
            shown = escape(reasons(p.get("reason", ""), lang))
        rows.append(
            f'<tr class="{"funded" if p["selected"] else ""}" data-project="{escape(p["id"])}">'
            f'<td>{p["rank"]}</td><th scope="row">{escape(p["id"])}</th>'
            f'<td class="text">{escape(p["title"])}{pn}</td>'
            f'<td>{fmt_money(p["cost"], currency, lang)}</td>'
            f'<td class="channel">{fmt_int(p["votes_online"], lang)}</td>'
            f'<td class="channel">{fmt_int(p["votes_paper"], lang)}</td>'
            f'<td class="votes">{fmt_int(p["votes_total"], lang)}</td>'
            f'<td class="text">{escape(t["yes"] if p["selected"] else t["no"])}</td>'
            f'<td class="text reason">{shown}'
            f'</td></tr>'
        )
    cls = {"votes_online": ' class="channel"', "votes_paper": ' class="channel"'}
    head = "".join(f'<th scope="col"{cls.get(k, "")}>{escape(t[k])}</th>' for k in
                   ("rank", "project", "title", "cost", "votes_online", "votes_paper", "votes", "funded", "reason"))
    return (f'<div class="table-wrap"><table class="projects" id="table-{escape(env["id"])}"><caption>'
            f'{escape(t["projects_table"])} — {escape(env["name"])}</caption><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def _header(t: dict[str, str], lang: str, path: str, title: str, **params: str) -> str:
    c = t["colon"]
    langs = " ".join(
        f'<a href="{escape(_link(path, code, **params))}" hreflang="{code}" lang="{code}"'
        f'{CURRENT if code == lang else ""}>{code.upper()}</a>' for code in LANGS)
    return (f'<header><p class="muted">pbcount — {escape(t["results"])}</p><h1>{escape(title)}</h1>'
            f'<nav aria-label="{escape(t["language"])}"><p>{escape(t["language"])}{c} {langs}</p></nav></header>')


def _document(lang: str, title: str, body: str) -> str:
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{CSS}</style></head><body>{body}</body></html>")


def receipt_form(t: dict[str, str], lang: str) -> str:
    """The HTML form that looks up a receipt (``GET /receipt``)."""
    return (f'<h3>{escape(t["receipt_check"])}</h3>'
            f'<form method="get" action="/receipt" class="receipt-form"><input type="hidden" name="lang" '
            f'value="{lang}"><label for="receipt-id">{escape(t["receipt_label"])}</label>'
            f'<input type="text" id="receipt-id" name="id" required maxlength="40" autocomplete="off" '
            f'spellcheck="false"> '
            f'<button type="submit">{escape(t["receipt_button"])}</button></form>')


def publication_section(pub: dict[str, Any] | None, t: dict[str, str], lang: str) -> str:
    """The HTML section on the publication: tree head and signature facts, or "not published yet"."""
    c = t["colon"]
    if pub is None:
        facts = f'<p id="not-published">{escape(t["not_published"])}</p>'
    else:
        facts = (
            f'<dl><dt>{escape(t["tree_head"])}</dt><dd><span class="hash" id="tree-root">{escape(pub["root"])}'
            f'</span> ({escape(t["tree_size"])}{c} <span id="tree-size">{fmt_int(pub["tree_size"], lang)}</span>)</dd>'
            f'<dt>{escape(t["manifest_hash"])}</dt><dd class="hash" id="manifest-hash">'
            f'{escape(pub["manifest_sha256"])}</dd></dl>'
        )
    return (f'<section id="verification" aria-labelledby="h-verification"><h2 id="h-verification">'
            f'{escape(t["verification"])}</h2>{facts}{receipt_form(t, lang)}{verify_how(pub, t)}</section>')


def verify_how(pub: dict[str, Any] | None, t: dict[str, str]) -> str:
    """How anyone checks the bundle: the results key fingerprint (as the verifier prints it),
    the verifier download (``GET /v1/verifier.zip``) and the two commands to run it."""
    fp = (pub or {}).get("key_fingerprint")
    key = (f'<p>{escape(t["key_fingerprint"])}{t["colon"]} <span class="hash" id="key-fingerprint">'
           f'{escape(fp)}</span></p>' if fp else "")
    return (f'<h3 id="verify-how">{escape(t["verify_how"])}</h3>{key}'
            f'<p><a id="dl-verifier" href="/v1/verifier.zip" download>{escape(t["verifier_download"])}</a> — '
            f'<a href="/v1/bundle" download>{escape(t["bundle"])}</a></p><p>{escape(t["verify_steps"])}</p>'
            f'<pre id="verify-commands">unzip pbcount-bundle.zip\n'
            f'python3 pbcount-verifier.zip bundle --key bundle/results.pub</pre>'
            f'<p>{escape(t["verify_expect"])}</p>')


def downloads_section(t: dict[str, str], published: bool) -> str:
    """The HTML list of downloads: the two CSVs, the bundle once published, the API docs."""
    links = [("/v1/results/projects.csv", t["projects_csv"], "dl-projects"),
             ("/v1/results/envelopes.csv", t["envelopes_csv"], "dl-envelopes")]
    if published:
        links.append(("/v1/bundle", t["bundle"], "dl-bundle"))
    links.append(("/docs", t["api"], "dl-api"))
    items = "".join(f'<li><a id="{i}" href="{h}">{escape(label)}</a></li>' for h, label, i in links)
    return (f'<section id="downloads" aria-labelledby="h-downloads"><h2 id="h-downloads">{escape(t["downloads"])}'
            f'</h2><nav aria-label="{escape(t["downloads"])}"><ul>{items}</ul></nav></section>')


def quota_verdict(doc: dict[str, Any], t: dict[str, str], lang: str) -> str:
    """The popular-neighbourhood verdict in plain words: met or not city-wide, and, when the
    quota is declared per envelope, in how many envelopes it was missed (with their names)."""
    pn = doc["popular_neighbourhood"]
    wide = pn["share_of_spent"] >= pn["quota_share"]
    with_quota = [e for e in doc["envelopes"] if e.get("quotas")]
    missed = [e for e in with_quota if any(not q["met"] for q in e["quotas"])]
    if not pn["quota_declared"] or not with_quota:
        met = pn["quota_met"]
        return f'<span class="{"ok" if met else "bad"}">{escape(t["quota_met"] if met else t["quota_missed"])}</span>'
    head = (f'<span class="{"ok" if wide else "bad"}" id="quota-wide">'
            f'{escape(t["quota_wide_met"] if wide else t["quota_missed"])}</span>')
    if not missed:
        return f'{head}; <span class="ok" id="quota-envelopes">{escape(t["quota_met_all"])}</span>'
    names = ", ".join(f'<a href="#env-{escape(e["id"])}">{escape(e["name"])}</a>' for e in missed)
    text = t["quota_missed_in"].format(n=len(missed), m=len(with_quota))
    return (f'{head}; <span class="bad" id="quota-envelopes" data-missed="{len(missed)}" '
            f'data-of="{len(with_quota)}">{escape(text)}</span> <span class="quota-list">({names})</span>')


def overview_section(doc: dict[str, Any], t: dict[str, str], lang: str) -> str:
    """The HTML overview: turnout by channel and each envelope's budget and spending."""
    c = t["colon"]
    cur = doc["election"]["currency"]
    tu = doc["turnout"]
    turnout = (
        f'<table id="turnout"><caption>{escape(t["turnout"])}</caption><thead><tr><th scope="col">'
        f'{escape(t["channel"])}</th><th scope="col">{escape(t["ballots"])}</th></tr></thead><tbody>'
        f'<tr><th scope="row">{escape(t["online"])}</th><td data-key="online">{fmt_int(tu["online"], lang)}</td></tr>'
        f'<tr><th scope="row">{escape(t["paper"])}</th><td data-key="paper">{fmt_int(tu["paper"], lang)}</td></tr>'
        f'<tr><th scope="row">{escape(t["counted"])}</th><td data-key="counted">'
        f'{fmt_int(tu["ballots_counted"], lang)}</td></tr>'
        f'<tr><th scope="row">{escape(t["superseded"])}</th><td data-key="superseded">'
        f'{fmt_int(tu["superseded"], lang)}</td></tr>'
        f'<tr><th scope="row">{escape(t["rejected"])}</th><td data-key="rejected">'
        f'{fmt_int(tu["rejected"], lang)}</td></tr>'
        f'<tr><th scope="row">{escape(t["pending_review"])}</th><td data-key="pending-review">'
        f'{fmt_int(tu.get("pending_review", 0), lang)}</td></tr></tbody></table>'
    )
    total = tu["online"] + tu["paper"]
    turnout_bar = bar_svg([(tu["online"], "#0b5cad", f'{t["online"]}: {fmt_int(tu["online"], lang)}'),
                           (tu["paper"], "#8a4b08", f'{t["paper"]}: {fmt_int(tu["paper"], lang)}')],
                          total, t["turnout"], ident="turnout-bar")
    b = doc["budget"]
    budget = (
        f'<p id="budget-text">{escape(t["budget"])}{c} {fmt_money(b["total"], cur, lang)} — {escape(t["spent"])}{c} '
        f'<span id="budget-spent">{fmt_money(b["spent"], cur, lang)}</span> — {escape(t["left"])}{c} '
        f'{fmt_money(b["left_over"], cur, lang)}</p>'
        + bar_svg([(b["spent"], FUNDED, f'{t["spent"]}: {fmt_money(b["spent"], cur, lang)}'),
                   (b["left_over"], "#c9d1d9", f'{t["left"]}: {fmt_money(b["left_over"], cur, lang)}')],
                  b["total"], t["budget_bar"], ident="budget-bar")
    )
    pn = doc["popular_neighbourhood"]
    popular = (
        f'<p id="popular-text">{escape(t["popular_text"])}{c} <strong id="popular-share">'
        f'{fmt_pct(pn["share_of_spent"], lang)}</strong> ({fmt_money(pn["spent"], cur, lang)}) — '
        f'{escape(t["quota"] if pn["quota_declared"] else t["reference"])} {fmt_pct(pn["quota_share"], lang)}{c} '
        f'{quota_verdict(doc, t, lang)}</p>'
        + bar_svg([(pn["spent"], "#6f42c1", f'{t["popular"]}: {fmt_money(pn["spent"], cur, lang)}'),
                   (b["spent"] - pn["spent"], "#c9d1d9", "")],
                  b["spent"], t["popular_text"],
                  marker=(pn["quota_share"] * b["spent"], f'{t["quota"]} {fmt_pct(pn["quota_share"], lang)}'),
                  ident="popular-bar")
    )
    return (f'<section id="overview" aria-labelledby="h-overview"><h2 id="h-overview">{escape(t["overview"])}</h2>'
            f'<p class="muted">{escape(t["counted_at"])} {escape(doc["counted_at"])}</p><div class="cards">'
            f'<div class="card">{turnout}{turnout_bar}</div><div class="card"><h3>{escape(t["budget"])}</h3>{budget}'
            f'<h3>{escape(t["popular"])}</h3>{popular}</div></div></section>')


# grade colours, best first (a diverging green -> red scale; the worst grade is red)
GRADE_COLOURS = ("#0b6e4f", "#52a37b", "#a6cfa0", "#f2d49b", "#e89a6b", "#c8553d", "#8f2d1f")


def grade_colours(n: int) -> list[str]:
    """``n`` colours best first: the ends of :data:`GRADE_COLOURS` and evenly spaced between."""
    if n <= 1:
        return [GRADE_COLOURS[0]]
    last = len(GRADE_COLOURS) - 1
    return [GRADE_COLOURS[round(i * last / (n - 1))] for i in range(n)]


def grade_chart(env: dict[str, Any], t: dict[str, str], lang: str) -> str:
    """Majority judgment's usual picture: per project (rank order) a stacked bar of its grade
    shares, best grade on the left, the median (50 %) marked by a vertical line, and the
    majority grade written beside it (``data-median`` holds it for tests and scripts)."""
    eid = escape(env["id"])
    out = [f'<figure class="chart grades" id="grades-{eid}" role="group" aria-labelledby="grades-{eid}-t" '
           f'aria-describedby="grades-{eid}-d"><figcaption id="grades-{eid}-t">{escape(t["grade_chart_title"])}'
           f' — {escape(env["name"])}</figcaption><p class="muted" id="grades-{eid}-d">'
           f'{escape(t["grade_chart_desc"])}</p>']
    projects = env["projects"]
    names = [g for g, _n in projects[0]["grades"]] if projects else []
    colours = grade_colours(len(names))
    out.append('<p class="legend">' + "".join(
        f'<span style="background:{c}"></span>{escape(g)}' for g, c in zip(names, colours, strict=True)) + "</p>")
    for p in projects:
        total = sum(n for _g, n in p["grades"])
        parts = [(n, c, f"{g}: {fmt_int(n, lang)}") for (g, n), c in zip(p["grades"], colours, strict=True)]
        label = (f'{p["title"] or p["id"]}: {t["majority_grade"]} {p["majority_grade"] or "—"}; '
                 + "; ".join(f"{g} {fmt_int(n, lang)}" for g, n in p["grades"]))
        svg = bar_svg(parts, total, label, ident=f'grades-{env["id"]}-{p["id"]}')
        median = '<line x1="300" x2="300" y1="-4" y2="32" stroke="#111" stroke-width="2" class="median"/></svg>'
        svg = svg.replace("</svg>", median, 1)
        out.append(f'<div class="bar{" funded" if p["selected"] else ""}" data-project="{escape(p["id"])}" '
                   f'data-median="{escape(p["majority_grade"] or "")}"><span class="label" tabindex="0" '
                   f'title="{escape(label)}">{"✓ " if p["selected"] else ""}{escape(p["title"] or p["id"])}</span>'
                   f'<span class="track">{svg}<span class="median-grade">{escape(p["majority_grade"] or "—")}'
                   f'</span></span></div>')
    out.append("</figure>")
    return "".join(out)


def for_against_note(p: dict[str, Any], t: dict[str, str], lang: str) -> str:
    """`` (for 12, against 3)`` after a for-against project's score in the chart."""
    if "votes_against" not in p:
        return ""
    return (f' <span class="for-against" data-for="{p["votes_for"]}" data-against="{p["votes_against"]}">'
            f'({escape(t["votes_for"])} {fmt_int(p["votes_for"], lang)}, {escape(t["votes_against"])} '
            f'{fmt_int(p["votes_against"], lang)})</span>')


def fairness_paragraph(env: dict[str, Any], t: dict[str, str], lang: str) -> str:
    """The published fairness figures of an envelope (``fairness.json`` of the bundle): voters
    with nothing funded, Gini of satisfaction, and the EJR verdict (approval) or what counts
    as supported (grades, for-against); '' without them."""
    r = env.get("fairness")
    if not r or not r.get("voters"):
        return ""
    head = (f'{escape(t["fair_title"])}{t["colon"]} {escape(t["fair_nothing"])} '
            f'{fmt_pct(r["nothing_funded_share"], lang)} — {escape(t["fair_gini"])} {r["gini_cost"]:.2f}')
    ejr = r.get("ejr")
    if ejr is None:  # grade / for-against: figures over the projects each voter supports, no EJR
        return (f'<p class="fairness" data-nothing="{r["nothing_funded_share"]}">{head} — '
                f'<span class="support">{escape(t["fair_support_" + env["ballot"]])}</span></p>')
    verdict = (escape(t["fair_ejr_ok"]) if ejr["satisfied"] else
               escape(t["fair_ejr_bad"].format(n=fmt_int(ejr["witness"]["group_size"], lang),
                                                projects=", ".join(ejr["witness"]["projects"]))))
    return (f'<p class="fairness" data-nothing="{r["nothing_funded_share"]}" data-ejr="{int(ejr["satisfied"])}">'
            f'{head} — <span class="{"ok" if ejr["satisfied"] else "bad"}">{verdict}</span></p>')


def envelope_section(env: dict[str, Any], t: dict[str, str], lang: str, currency: str, open_: bool) -> str:
    """The HTML section of one envelope: budget, spent, left over, and its projects table."""
    if env.get("savings"):  # reverse PB: target, sectors before/after (api/page_savings.py)
        from api.page_savings import savings_envelope_section

        return savings_envelope_section(env, t, lang, currency, open_)
    c = t["colon"]
    env = {**env, "currency": currency}
    head = (f'<p>{escape(t["budget"])}{c} {fmt_money(env["budget"], currency, lang)} — {escape(t["spent"])}{c} '
            f'{fmt_money(env["spent"], currency, lang)} — {escape(t["left"])}{c} '
            f'{fmt_money(env["left_over"], currency, lang)} — <span class="funded-count">'
            f'{env["projects_funded"]}</span> {escape(t["funded_count"])} — {escape(t["ballots"])}{c} '
            f'{fmt_int(env["ballots"]["total"], lang)} ({escape(t["online"])} '
            f'{fmt_int(env["ballots"]["online"], lang)}, '
            f'{escape(t["paper"])} {fmt_int(env["ballots"]["paper"], lang)}) — {escape(t["rule"])}{c} '
            f'<span class="rule" data-rule="{escape(env["rule"])}">{escape(rule_text(env["rule"], lang))}</span></p>')
    for q in env.get("quotas", []):
        head += (f'<p class="quota" data-quota="{escape(q["name"])}">{escape(t["quota"])} « {escape(q["name"])} »{c} '
                 f'{fmt_money(q["group_spent"], currency, lang)} / {fmt_money(q["min_amount"], currency, lang)} — '
                 f'<span class="{"ok" if q["met"] else "bad"}">'
                 f'{escape(t["quota_met"] if q["met"] else t["quota_missed"])}</span></p>')
    head += fairness_paragraph(env, t, lang)
    bar = bar_svg([(env["spent"], FUNDED, t["spent"]), (env["left_over"], "#c9d1d9", t["left"])],
                  env["budget"], f'{t["budget_bar"]} — {env["name"]}', ident=f'budget-{env["id"]}')
    legend = (f'<p class="legend" aria-hidden="true"><span style="background:{FUNDED}"></span>'
              f'{escape(t["funded_legend"])}<span style="background:{NOT_FUNDED}"></span>'
              f'{escape(t["not_funded_legend"])}<span style="background:{BUDGET_LINE};height:3px"></span>'
              f'{escape(t["budget_line"])}</p>')
    return (f'<section class="envelope" id="env-{escape(env["id"])}" aria-labelledby="h-env-{escape(env["id"])}">'
            f'<h2 id="h-env-{escape(env["id"])}">{escape(env["name"])}</h2>{head}{bar}'
            f'<details{" open" if open_ else ""}><summary>{escape(t["chart_title"])} / '
            f'{escape(t["projects_table"])}</summary>{legend}'
            f'{grade_chart(env, t, lang) if env.get("ballot") == "grades" else envelope_chart(env, t, lang)}'
            f'{projects_table(env, t, lang, currency)}</details></section>')


def render_results_page(doc: dict[str, Any] | None, pub: dict[str, Any] | None, lang: str,
                        election_name: str, sortition: list[dict[str, Any]] | None = None,
                        base_url: str = "") -> str:
    """The whole public results page in ``lang`` (``doc``: the results document, None before a
    count; ``pub``: the publication facts, None before publication; ``sortition``: the served
    sortition records, :func:`api.routes_sortition.record_document`, shown after the results
    with download commands against ``base_url``).
    """
    from api.page_sortition import sortition_section

    t = TEXT[lang]
    title = f"{election_name} — {t['results']}"
    parts = [_header(t, lang, "/", title), "<main>"]
    if doc is None:
        parts.append(f'<p id="not-counted">{escape(t["not_counted"])}</p>')
        parts.append(publication_section(pub, t, lang))
    else:
        cur = doc["election"]["currency"]
        parts.append(overview_section(doc, t, lang))
        parts.append(downloads_section(t, pub is not None))
        parts.append(publication_section(pub, t, lang))
        toc = "".join(f'<li><a href="#env-{escape(e["id"])}">{escape(e["name"])}</a></li>' for e in doc["envelopes"])
        parts.append(f'<nav aria-label="{escape(t["envelopes"])}"><h2>{escape(t["envelopes"])}</h2>'
                     f'<ul>{toc}</ul></nav>')
        fair = (pub or {}).get("fairness") or {}
        for i, env in enumerate(doc["envelopes"]):
            parts.append(envelope_section({**env, "fairness": fair.get(env["id"])}, t, lang, cur, open_=(i == 0)))
    parts.append(sortition_section(sortition or [], t, lang, base_url))
    parts.append("</main>")
    return _document(lang, title, "".join(parts))


# Re-verifies the inclusion proof in the visitor's browser (WebCrypto SHA-256), so the
# verdict does not rest on the server's word alone: RFC 6962 leaf hash of the published
# line, then RFC 9162 §2.1.3.2 up to the published root. Progressive: without JavaScript
# the server's verdict above still stands.
VERIFY_JS = """
(async () => {
  const data = document.getElementById('proof-data'), out = document.getElementById('browser-verdict');
  if (!data || !out || !window.crypto || !crypto.subtle) return;
  const d = JSON.parse(data.textContent);
  const unhex = h => new Uint8Array(h.match(/../g).map(x => parseInt(x, 16)));
  const hex = b => Array.from(b).map(x => x.toString(16).padStart(2, '0')).join('');
  const sha = async (...parts) => {
    const buf = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0; for (const p of parts) { buf.set(p, o); o += p.length; }
    return new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
  };
  const ZERO = new Uint8Array([0]), ONE = new Uint8Array([1]);
  let r = await sha(ZERO, new TextEncoder().encode(d.line));
  let fn = d.index, sn = d.size - 1, ok = true;
  for (const p of d.proof.map(unhex)) {
    if (sn === 0) { ok = false; break; }
    if ((fn & 1) || fn === sn) {
      r = await sha(ONE, p, r);
      if (!(fn & 1)) { while (!(fn & 1) && fn !== 0) { fn >>= 1; sn >>= 1; } }
    } else { r = await sha(ONE, r, p); }
    fn >>= 1; sn >>= 1;
  }
  ok = ok && sn === 0 && hex(r) === d.root;
  out.textContent = ok ? d.ok : d.bad;
  out.className = ok ? 'ok' : 'bad';
})();
"""


def browser_check(check: dict[str, Any], t: dict[str, str]) -> str:
    """The inclusion proof of a receipt as page data, and the script that checks it in the
    visitor's own browser.
    """
    data = json.dumps({"line": check["line"], "index": check["leaf_index"], "size": check["tree_size"],
                       "root": check["root"], "proof": check["proof"], "ok": t["browser_ok"],
                       "bad": t["browser_bad"]}, ensure_ascii=True).replace("</", "<\\/")
    return (f'<p id="browser-verdict" aria-live="polite"></p>'
            f'<script type="application/json" id="proof-data">{data}</script><script>{VERIFY_JS}</script>')


def render_receipt_page(check: dict[str, Any], lang: str, election_name: str) -> str:
    """``check``: {"receipt_id", "status": found|not_found|invalid|not_published, and when found
    "line", "leaf_index", "tree_size", "root", "proof", "verified"}."""
    t = TEXT[lang]
    c = t["colon"]
    title = f"{election_name} — {t['receipt_check']}"
    st = check["status"]
    if st in ("found", "withdrawn"):
        verdict = (f'<p class="ok" id="proof-verdict">{escape(t["proof_ok"])}</p>' if check["verified"]
                   else f'<p class="bad" id="proof-verdict">{escape(t["proof_bad"])}</p>')
        proof = "".join(f"<li class=\"hash\">{escape(h)}</li>" for h in check["proof"])
        status_text = (f'<p class="ok" id="receipt-status">{escape(t["receipt_found"])}</p>' if st == "found" else
                       f'<p class="bad" id="receipt-status">{escape(t["receipt_withdrawn"])} '
                       f'{escape(check.get("withdraw_reason") or "")}</p>')
        body = (
            status_text +
            f'<h2>{escape(t["ballot_line"])}</h2><pre id="ballot-line">{escape(check["line"])}</pre>'
            f'<h2>{escape(t["proof"])}</h2>{verdict}<p>{escape(t["leaf_index"])} {check["leaf_index"]} '
            f'{escape(t["of"])} {fmt_int(check["tree_size"], lang)} — {escape(t["root_hash"])} '
            f'<span class="hash">{escape(check["root"])}</span></p><ol>{proof}</ol>'
            + browser_check(check, t)
        )
    elif st == "not_found":
        body = (f'<p class="bad" id="receipt-status">{escape(t["receipt_not_found"])}</p>'
                f'<p id="receipt-next">{escape(t["receipt_next"])}</p>')
    elif st == "invalid":
        why = t["receipt_typo"] if check.get("problem") == "check_mismatch" else t["receipt_invalid"]
        body = f'<p class="bad" id="receipt-status">{escape(why)}</p>'
    else:
        body = f'<p id="receipt-status">{escape(t["not_published"])}</p>'
    main = (f'<main><p><a href="{escape(_link("/", lang))}">{escape(t["back"])}</a></p>'
            f'<p>{escape(t["receipt_label"])}{c} <span class="hash">{escape(check.get("receipt_id", ""))}</span></p>'
            f'{body}{receipt_form(t, lang)}</main>')
    return _document(lang, title, _header(t, lang, "/receipt", title, id=check.get("receipt_id", "")) + main)
