"""The crisis detector's message lists in ``data/safety/`` (tab-separated ``label``,
``text``; 1 = crisis language): the dev lists it is trained on and the held-out lists it
is judged on."""

from __future__ import annotations

import csv

from claritymentor.config import ROOT

SAFETY_DATA = ROOT / "data" / "safety"
DEV_LISTS = ("dev.tsv", "dev2.tsv", "dev3.tsv", "dev4.tsv", "dev5.tsv", "dev6.tsv", "dev7.tsv", "dev8.tsv")
HELD_OUT_LISTS = ("heldout.tsv", "heldout2.tsv", "heldout3.tsv")


def read_list(name: str) -> list[tuple[str, int]]:
    """(text, label) rows of one list."""
    with (SAFETY_DATA / name).open(encoding="utf-8") as f:
        return [(r["text"], int(r["label"])) for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)]
