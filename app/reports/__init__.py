"""Weekly status reports: written from a day's frozen snapshot, archived, delivered.

``weeks`` says which day a week's report covers; ``record`` what a snapshot keeps for it;
``compose`` gathers a report from the store; ``render`` writes its HTML, Markdown and
Confluence forms; ``service`` generates, archives and annotates reports; ``delivery``
sends them to Slack, Confluence and e-mail; ``site`` writes the static archive.
"""
