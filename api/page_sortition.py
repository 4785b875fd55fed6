"""The public page's section on sortition draws (``pbcount serve --sortition DIR``), French and English.

Per record: whether the server verified it (else "NOT VERIFIED" and the problems, never
shown as valid), the seed and where it came from, the pool fingerprint, the quotas with the
panel's count per value, the panel ids, the spread of selection probabilities, and how to
check the draw: the file downloads (``GET /v1/sortition/{name}/files/{file}``) and the exact
``pbcount sortition verify`` command. Data: :func:`api.routes_sortition.record_document`;
words: ``sort_*`` in :data:`api.i18n.TEXT`.
"""

from __future__ import annotations

from html import escape
from typing import Any

from api.i18n import fmt_int, fmt_prob


def download_commands(doc: dict[str, Any], base_url: str) -> str:
    """The shell lines that fetch every file of the record into a directory named after it and
    verify it (``curl`` expands ``{a,b}`` in the URL itself)."""
    name = doc["name"]
    files = ",".join(doc["files"])
    return (f"mkdir {name} && cd {name}\n"
            f'curl -fO "{base_url}/v1/sortition/{name}/files/{{{files}}}"\n'
            f"cd ..\n"
            f"pbcount sortition verify {name} --key results.pub")


def record_article(doc: dict[str, Any], t: dict[str, str], lang: str, base_url: str) -> str:
    """One record's part of the section (module docstring)."""
    c = t["colon"]
    name = doc["name"]
    ident = escape(name)
    if doc["verified"]:
        status = f'<p class="ok sort-status">{escape(t["sort_verified"])}</p>'
    else:
        problems = "".join(f"<li>{escape(p)}</li>" for p in doc["problems"])
        status = (f'<p class="bad sort-status">{escape(t["sort_not_verified"])}</p>'
                  f'<p>{escape(t["sort_problems"])}{c}</p><ul class="sort-problems">{problems}</ul>')
    s = doc["summary"]
    body = ""
    if s is not None:
        rows = "".join(
            f'<tr data-quota="{escape(q["feature"])}={escape(q["value"])}" data-count="{q["panel_count"]}">'
            f'<th scope="row">{escape(q["feature"])}</th><td class="text">{escape(q["value"])}</td>'
            f'<td>{q["min"]}</td><td>{q["max"]}</td><td class="count">{q["panel_count"]}</td>'
            f'<td class="text {"ok" if q["met"] else "bad"}">{escape(t["yes"] if q["met"] else t["no"])}</td></tr>'
            for q in s["quotas"])
        head = "".join(f'<th scope="col">{escape(t[k])}</th>' for k in
                       ("sort_feature", "sort_value", "sort_min", "sort_max", "sort_count", "sort_met"))
        p = s["probabilities"]
        drawn = t["sort_drawn"].format(size=fmt_int(s["size"], lang), pool=fmt_int(s["pool_size"], lang))
        body = (
            f'<dl><dt>{escape(t["sort_seed"])}</dt><dd><code class="sort-seed">{escape(s["seed"])}</code>'
            f'<p class="muted">{escape(t["sort_seed_source"])} <span class="hash">'
            f'{escape(s["seed_derivation"])}</span></p></dd>'
            f'<dt>{escape(t["sort_pool_hash"])}</dt><dd class="hash sort-pool-hash">{escape(s["pool_sha256"])}</dd>'
            f'<dt>{escape(t["sort_method"])}</dt><dd>{escape(s["method"])} ({escape(s["algorithm"])}) — '
            f'{escape(drawn)}</dd></dl>'
            f'<div class="table-wrap"><table class="sort-quotas"><caption>{escape(t["sort_quotas"])}</caption>'
            f'<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>'
            f'<h4>{escape(t["sort_panel"])}</h4><ul class="panel-ids">'
            + "".join(f"<li>{escape(pid)}</li>" for pid in s["panel"]) + "</ul>"
            f'<p class="sort-probs">{escape(t["sort_probs"])}{c} '
            f'{escape(t["sort_prob_line"].format(min=fmt_prob(p["min"], lang), median=fmt_prob(p["median"], lang), max=fmt_prob(p["max"], lang)))}</p>'  # noqa: E501
        )
    links = " — ".join(f'<a href="/v1/sortition/{ident}/files/{escape(f)}" download>{escape(f)}</a>'
                       for f in doc["files"])
    check = (f'<h4>{escape(t["sort_check"])}</h4><p>{escape(t["sort_check_steps"])}</p>'
             f'<p class="sort-files">{escape(t["sort_files"])}{c} {links}</p>'
             f'<pre class="sort-verify">{escape(download_commands(doc, base_url))}</pre>'
             f'<p class="muted">{escape(t["sort_check_key"])}</p>')
    return (f'<article class="sortition-record" id="sortition-{ident}" data-verified="{int(doc["verified"])}">'
            f'<h3>{ident}</h3>{status}{body}{check}</article>')


def sortition_section(docs: list[dict[str, Any]], t: dict[str, str], lang: str, base_url: str) -> str:
    """The whole section, or '' when no record is served."""
    if not docs:
        return ""
    return (f'<section id="sortition" aria-labelledby="h-sortition"><h2 id="h-sortition">'
            f'{escape(t["sort_title"])}</h2><p>{escape(t["sort_intro"])}</p>'
            + "".join(record_article(d, t, lang, base_url) for d in docs) + "</section>")
