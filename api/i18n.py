"""French and English text of the public page, and number formatting per language.

Language choice: ``?lang=fr|en``, else the first of fr/en in ``Accept-Language``, else the
server default (French).
"""

from __future__ import annotations

LANGS = ("fr", "en")

TEXT: dict[str, dict[str, str]] = {
    "fr": {
        "results": "Résultats",
        "not_counted": "Le dépouillement n'a pas encore eu lieu. Revenez après la clôture du vote.",
        "overview": "Vue d'ensemble",
        "turnout": "Participation par canal",
        "channel": "Canal",
        "ballots": "Bulletins",
        "online": "En ligne",
        "paper": "Papier",
        "counted": "Bulletins comptés",
        "superseded": "Bulletins remplacés (gardés, non comptés)",
        "rejected": "Bulletins rejetés",
        "pending_review": "Pages papier en attente de vérification (pas encore comptées)",
        "budget": "Budget",
        "spent": "Dépensé",
        "left": "Reste",
        "budget_bar": "Budget dépensé et restant",
        "popular": "Quartiers populaires",
        "popular_text": "Part des sommes attribuées aux projets des quartiers populaires",
        "quota": "quota",
        "reference": "référence (un tiers)",
        "quota_met": "objectif atteint",
        "quota_missed": "objectif non atteint",
        "downloads": "Téléchargements",
        "projects_csv": "Projets (CSV)",
        "envelopes_csv": "Enveloppes (CSV)",
        "bundle": "Dossier de vérification (zip)",
        "api": "API (OpenAPI)",
        "verification": "Vérification publique",
        "tree_head": "Tête de l'arbre de Merkle publiée",
        "tree_size": "nombre de bulletins",
        "root_hash": "racine",
        "manifest_hash": "Empreinte du manifeste (SHA-256)",
        "signed_at": "signé le",
        "not_published": "Les résultats ne sont pas encore publiés (pas de dossier signé).",
        "receipt_check": "Vérifier mon reçu",
        "receipt_label": "Numéro de reçu (R… ou P…) ou numéro imprimé sur le talon du bulletin papier (N° …)",
        "receipt_button": "Vérifier",
        "receipt_found": "Votre bulletin figure dans le dossier publié.",
        "receipt_not_found": "Aucun bulletin publié ne porte ce reçu.",
        "receipt_withdrawn": "Ce bulletin a été publié puis retiré du décompte ; raison :",
        "receipt_invalid": ("Ce numéro n'a pas le bon format : un reçu a 16 caractères (commence par R ou P), "
                            "un numéro de talon 17 (N° XXXX-XXXX-XXXX-XXXX-C)."),
        "receipt_typo": ("Le dernier caractère (symbole de contrôle) ne correspond pas : un caractère est mal "
                         "recopié. Comparez avec le talon."),
        "ballot_line": "Ligne du bulletin publiée",
        "proof": "Preuve d'inclusion",
        "proof_ok": "La preuve d'inclusion est valide : ce bulletin fait partie de l'arbre publié.",
        "proof_bad": "La preuve d'inclusion NE se vérifie PAS.",
        "browser_ok": "Vérifié aussi par votre navigateur (SHA-256 recalculés ici) : "
                      "la preuve mène à la racine publiée.",
        "browser_bad": "Votre navigateur n'a PAS pu vérifier la preuve : elle ne mène pas à la racine publiée.",
        "leaf_index": "position",
        "envelope": "Enveloppe",
        "envelopes": "Enveloppes",
        "project": "Projet",
        "title": "Intitulé",
        "cost": "Coût",
        "votes": "Voix",
        "votes_online": "Voix en ligne",
        "votes_paper": "Voix papier",
        "rank": "Rang",
        "funded": "Financé",
        "yes": "oui",
        "no": "non",
        "funded_legend": "financé",
        "not_funded_legend": "non financé",
        "budget_line": "ligne de budget",
        "grade_chart_title": "Profil des mentions de chaque projet",
        "grade_chart_desc": "Barres empilées : part des votants ayant donné chaque mention, de la meilleure "
                            "(à gauche) à la moins bonne ; le trait vertical marque la médiane (50 %), "
                            "la mention où il tombe est la mention majoritaire.",
        "majority_grade": "mention majoritaire",
        "fair_title": "Équité (fichier fairness.json publié)",
        "fair_nothing": "votants sans aucun projet financé :",
        "fair_gini": "indice de Gini de la satisfaction (coût) :",
        "fair_ejr_ok": "aucun groupe cohésif sous-représenté (EJR)",
        "fair_support_grades": "un projet compte comme soutenu s'il est noté au-dessus de la note d'un projet non noté",
        "fair_support_for-against": "un projet compte comme soutenu si le votant a voté pour",
        "fair_ejr_bad": "groupe cohésif sous-représenté (EJR) : {n} votants soutenant {projects}",
        "votes_for": "pour",
        "votes_against": "contre",
        "chart_title": "Projets par nombre de voix",
        "chart_desc": "Barres horizontales : voix par projet, dans l'ordre du classement ; "
                      "projets financés en vert foncé ; "
                      "la ligne pointillée marque où le budget serait épuisé en finançant dans l'ordre.",
        "projects_table": "Tableau des projets",
        "funded_count": "projets financés",
        "rule": "règle",
        "counted_at": "Dépouillé le",
        "popular_short": "QP",
        "popular_abbr": "projet d'un quartier populaire",
        "back": "Retour aux résultats",
        "language": "Langue",
        "of": "sur",
        "share": "part",
        "reason": "Pourquoi",
        "tie_lost_to": "égalité perdue face à",
        "verify_how": "Comment vérifier",
        "key_fingerprint": "Empreinte de la clé des résultats (SHA-256 de la clé publique Ed25519 brute)",
        "verifier_download": "Télécharger le vérificateur autonome (pbcount-verifier.zip)",
        "verify_steps": ("Téléchargez le dossier de vérification et le vérificateur, puis lancez "
                         "(Python 3 et le paquet cryptography suffisent) :"),
        "verify_expect": "Le vérificateur affiche VERIFIED et l'empreinte de la clé : elle doit être celle ci-dessus.",
        "quota_wide_met": "atteint à l'échelle de la ville",
        "quota_missed_in": "manqué dans {n} enveloppe(s) sur {m}",
        "quota_met_all": "atteint dans chaque enveloppe",
        "receipt_next": ("Vérifiez que le numéro est recopié exactement (16 caractères, 0 et O se confondent), "
                         "ou revenez après la prochaine publication. Si votre reçu reste introuvable, "
                         "signalez-le à la mairie en citant ce numéro."),
        "sort_title": "Tirages au sort",
        "sort_intro": ("Panels (ou propositions) tirés au sort avec des quotas, à partir d'une graine publique. "
                       "Chaque procès-verbal est signé avec la clé des résultats ; n'importe qui peut refaire "
                       "le tirage et vérifier qu'il donne ce panel."),
        "sort_verified": "Vérifié par le serveur : signature valide, le tirage se refait à l'identique.",
        "sort_not_verified": "NON VÉRIFIÉ : ce procès-verbal ne doit pas être tenu pour valide.",
        "sort_problems": "Problèmes trouvés",
        "sort_seed": "Graine",
        "sort_seed_source": ("D'où elle vient : un aléa public annoncé avant le tirage et inconnu de tous avant "
                             "(la valeur d'un tour de drand ou le résultat d'un tirage de loterie), utilisé tel "
                             "quel (octets UTF-8 du texte). Dérivation :"),
        "sort_pool_hash": "Empreinte du vivier (SHA-256 de pool.csv), publiée avant la graine",
        "sort_method": "Méthode",
        "sort_drawn": "{size} personnes tirées parmi {pool}",
        "sort_quotas": "Quotas et composition du panel",
        "sort_feature": "Critère",
        "sort_value": "Valeur",
        "sort_min": "Min.",
        "sort_max": "Max.",
        "sort_count": "Dans le panel",
        "sort_met": "Respecté",
        "sort_panel": "Panel tiré (identifiants pseudonymes)",
        "sort_probs": "Probabilité d'être tiré, sur tout le vivier",
        "sort_prob_line": "plus petite {min} — médiane {median} — plus grande {max}",
        "sort_check": "Comment vérifier ce tirage",
        "sort_check_steps": ("Téléchargez les fichiers du procès-verbal dans un dossier, puis lancez la commande "
                             "ci-dessous (pbcount installé) ; elle refait le tirage et affiche OK, ou FAIL avec "
                             "chaque différence."),
        "sort_check_key": ("results.pub : la clé publique des résultats publiée par la ville (dans le dossier de "
                           "vérification) ; la copie du procès-verbal ne prouve que sa cohérence interne."),
        "sort_files": "Fichiers",
        "colon": "\u00a0:",
    },
    "en": {
        "results": "Results",
        "not_counted": "The votes have not been counted yet. Come back after the vote closes.",
        "overview": "Overview",
        "turnout": "Turnout by channel",
        "channel": "Channel",
        "ballots": "Ballots",
        "online": "Online",
        "paper": "Paper",
        "counted": "Ballots counted",
        "superseded": "Ballots superseded (kept, not counted)",
        "rejected": "Ballots rejected",
        "pending_review": "Paper pages pending review (not counted yet)",
        "budget": "Budget",
        "spent": "Spent",
        "left": "Left over",
        "budget_bar": "Budget spent and left",
        "popular": "Popular neighbourhoods",
        "popular_text": "Share of the money allocated to popular-neighbourhood projects",
        "quota": "quota",
        "reference": "reference (one third)",
        "quota_met": "quota met",
        "quota_missed": "quota not met",
        "downloads": "Downloads",
        "projects_csv": "Projects (CSV)",
        "envelopes_csv": "Envelopes (CSV)",
        "bundle": "Verification bundle (zip)",
        "api": "API (OpenAPI)",
        "verification": "Public verification",
        "tree_head": "Published Merkle tree head",
        "tree_size": "ballots",
        "root_hash": "root",
        "manifest_hash": "Manifest hash (SHA-256)",
        "signed_at": "signed at",
        "not_published": "The results are not published yet (no signed bundle).",
        "receipt_check": "Check my receipt",
        "receipt_label": "Receipt number (R… or P…) or the number printed on your paper ballot's stub (N° …)",
        "receipt_button": "Check",
        "receipt_found": "Your ballot is in the published bundle.",
        "receipt_not_found": "No published ballot has this receipt.",
        "receipt_withdrawn": "This ballot was published, then withdrawn from the count; reason:",
        "receipt_invalid": ("This number is not well formed: a receipt has 16 characters (starting with R or P), "
                            "a stub number 17 (N° XXXX-XXXX-XXXX-XXXX-C)."),
        "receipt_typo": ("The last character (the check symbol) does not match: a character is mistyped. "
                         "Compare with the stub."),
        "ballot_line": "Published ballot line",
        "proof": "Inclusion proof",
        "proof_ok": "The inclusion proof verifies: this ballot is part of the published tree.",
        "proof_bad": "The inclusion proof does NOT verify.",
        "browser_ok": "Also verified by your browser (SHA-256 recomputed here): the proof leads to the published root.",
        "browser_bad": "Your browser could NOT verify the proof: it does not lead to the published root.",
        "leaf_index": "index",
        "envelope": "Envelope",
        "envelopes": "Envelopes",
        "project": "Project",
        "title": "Title",
        "cost": "Cost",
        "votes": "Votes",
        "votes_online": "Online votes",
        "votes_paper": "Paper votes",
        "rank": "Rank",
        "funded": "Funded",
        "yes": "yes",
        "no": "no",
        "funded_legend": "funded",
        "not_funded_legend": "not funded",
        "budget_line": "budget line",
        "grade_chart_title": "Grade profile of each project",
        "grade_chart_desc": "Stacked bars: share of voters giving each grade, best (left) to worst; the "
                            "vertical line marks the median (50 %); the grade it falls in is the majority grade.",
        "majority_grade": "majority grade",
        "fair_title": "Fairness (published fairness.json)",
        "fair_nothing": "voters with nothing funded:",
        "fair_gini": "Gini of satisfaction (cost):",
        "fair_ejr_ok": "no under-represented cohesive group (EJR)",
        "fair_support_grades": "a project counts as supported when graded above the grade of an ungraded project",
        "fair_support_for-against": "a project counts as supported when the voter voted for it",
        "fair_ejr_bad": "under-represented cohesive group (EJR): {n} voters supporting {projects}",
        "votes_for": "for",
        "votes_against": "against",
        "chart_title": "Projects by votes",
        "chart_desc": "Horizontal bars: votes per project in rank order; funded projects in dark green; "
                      "the dashed line marks where the budget would run out funding in rank order.",
        "projects_table": "Projects table",
        "funded_count": "projects funded",
        "rule": "rule",
        "counted_at": "Counted at",
        "popular_short": "PN",
        "popular_abbr": "popular-neighbourhood project",
        "back": "Back to the results",
        "language": "Language",
        "of": "of",
        "share": "share",
        "reason": "Why",
        "tie_lost_to": "tie lost to",
        "verify_how": "How to verify",
        "key_fingerprint": "Results key fingerprint (SHA-256 of the raw Ed25519 public key)",
        "verifier_download": "Download the stand-alone verifier (pbcount-verifier.zip)",
        "verify_steps": ("Download the verification bundle and the verifier, then run "
                         "(Python 3 and the cryptography package are enough):"),
        "verify_expect": "The verifier prints VERIFIED and the key fingerprint: it must be the one above.",
        "quota_wide_met": "met city-wide",
        "quota_missed_in": "missed in {n} of {m} envelopes",
        "quota_met_all": "met in every envelope",
        "receipt_next": ("Check that the number is copied exactly (16 characters; 0 and O are easy to confuse), "
                         "or come back after the next publication. If your receipt still cannot be found, "
                         "report it to the city, quoting this number."),
        "sort_title": "Sortition draws",
        "sort_intro": ("Panels (or proposals) drawn by lot with quotas, from a public seed. Each record is signed "
                       "with the results key; anyone can re-run the draw and check that it gives this panel."),
        "sort_verified": "Verified by the server: the signature is valid and the draw re-derives bit for bit.",
        "sort_not_verified": "NOT VERIFIED: this record must not be taken as valid.",
        "sort_problems": "Problems found",
        "sort_seed": "Seed",
        "sort_seed_source": ("Where it came from: public randomness announced before the draw and unknown to "
                             "everyone before it (a drand round's value or a lottery result), used exactly as "
                             "typed (the text's UTF-8 bytes). Derivation:"),
        "sort_pool_hash": "Pool fingerprint (SHA-256 of pool.csv), published before the seed",
        "sort_method": "Method",
        "sort_drawn": "{size} people drawn from {pool}",
        "sort_quotas": "Quotas and the panel's make-up",
        "sort_feature": "Feature",
        "sort_value": "Value",
        "sort_min": "Min",
        "sort_max": "Max",
        "sort_count": "On the panel",
        "sort_met": "Met",
        "sort_panel": "Panel drawn (pseudonymous ids)",
        "sort_probs": "Selection probability, over the whole pool",
        "sort_prob_line": "smallest {min} — median {median} — largest {max}",
        "sort_check": "How to check this draw",
        "sort_check_steps": ("Download the record's files into one directory, then run the command below (with "
                             "pbcount installed); it re-runs the draw and prints OK, or FAIL with every difference."),
        "sort_check_key": ("results.pub: the results public key the city published (in the verification bundle); "
                           "the record's own copy only proves it is self-consistent."),
        "sort_files": "Files",
        "colon": ":",
    },
}


# why a project was or was not funded (engine.rules.problem.REASONS), per language
REASON_TEXT: dict[str, dict[str, str]] = {
    "fr": {
        "funded": "financé dans l'ordre du classement",
        "did_not_fit": "coût supérieur au budget restant à son tour",
        "stopped": "la règle s'arrête au premier projet qui ne rentre pas",
        "below_threshold": "moins de voix que le seuil",
        "tie_lost": "ne rentrait plus après une égalité perdue",
        "quota_reserve": "aurait pris sur l'argent réservé à un quota",
        "quota_max": "son groupe avait atteint le maximum du quota",
        "funded_after_release": "financé avec l'argent réservé que le groupe ne pouvait pas utiliser",
        "not_affordable": "parts égales : l'argent restant de ses soutiens ne suffisait pas",
        "not_in_optimum": "ne fait pas partie de la sélection optimale",
        "funded_completion": "financé par l'étape de complément",
        "no_supporters": "aucune voix",
        "excluded": "un projet exclusif du sien a été financé avant",
    },
    "en": {
        "funded": "funded in rank order",
        "did_not_fit": "cost more than the budget left when its turn came",
        "stopped": "the rule stops at the first project that does not fit",
        "below_threshold": "fewer votes than the threshold",
        "tie_lost": "did not fit after losing a tie",
        "quota_reserve": "would have eaten into money reserved for a quota",
        "quota_max": "its group already reached the quota's maximum",
        "funded_after_release": "funded with reserved money the group could not use",
        "not_affordable": "equal shares: its supporters' money left could not pay for it",
        "not_in_optimum": "not part of the optimal selection",
        "funded_completion": "funded by the completion step",
        "no_supporters": "no votes",
        "excluded": "a project exclusive with it was funded first",
    },
}

# rule ids as shown on the page (the id itself is kept in brackets for the CSV reader)
RULE_TEXT: dict[str, dict[str, str]] = {
    "fr": {"greedy": "glouton (par voix, tant que le budget suffit)", "greedy-stop": "glouton avec arrêt",
           "mes": "parts égales (MES)", "exact": "optimum exact", "majority-judgment": "jugement majoritaire",
           "for-against": "pour/contre", "greedy-exclusive": "glouton avec exclusions"},
    "en": {"greedy": "greedy (by votes, while the budget lasts)", "greedy-stop": "greedy, stop at first misfit",
           "mes": "Method of Equal Shares", "exact": "exact optimum", "majority-judgment": "majority judgment",
           "for-against": "for/against", "greedy-exclusive": "greedy with exclusions"},
}


def reason_text(reason: str, lang: str) -> str:
    """The page's words for a ProjectOutcome reason (the id itself if unknown)."""
    return REASON_TEXT.get(lang, REASON_TEXT["en"]).get(reason, reason.replace("_", " "))


def rule_text(rule: str, lang: str) -> str:
    """The page's words for a rule id, with the id in brackets (e.g. ``glouton (…) [greedy]``)."""
    base = rule.split("+")[0].split(":")[0]
    words = RULE_TEXT.get(lang, RULE_TEXT["en"]).get(base)
    return f"{words} [{rule}]" if words else rule


def pick_lang(query_lang: str | None, accept_language: str | None, default: str) -> str:
    """The page language: ``?lang=`` if supported, else the first supported language of the
    ``Accept-Language`` header, else ``default``.
    """
    if query_lang in LANGS:
        return query_lang
    if accept_language:
        for part in accept_language.split(","):
            tag = part.split(";")[0].strip().lower()[:2]
            if tag in LANGS:
                return tag
    return default if default in LANGS else "fr"


def fmt_int(n: int, lang: str) -> str:
    """An integer with thousands separators (a narrow no-break space in French)."""
    s = f"{n:,}"
    return s.replace(",", "\u202f") if lang == "fr" else s


def fmt_money(n: int, currency: str, lang: str) -> str:
    """An amount with the currency symbol where known (after it, with a no-break space, in French)."""
    sym = {"EUR": "€", "USD": "$", "GBP": "£"}.get(currency)
    if lang == "fr":
        return f"{fmt_int(n, lang)}\u00a0{sym or currency}"
    return f"{sym}{fmt_int(n, lang)}" if sym else f"{fmt_int(n, lang)} {currency}"


def fmt_prob(x: float, lang: str) -> str:
    """A probability with four decimals (``0,3333`` in French)."""
    s = f"{x:.4f}"
    return s.replace(".", ",") if lang == "fr" else s


def fmt_pct(x: float, lang: str) -> str:
    """A fraction ``x`` as a percentage with one decimal (``12,5 %`` in French)."""
    s = f"{100 * x:.1f}"
    return f"{s.replace('.', ',')}\u00a0%" if lang == "fr" else f"{s}%"
