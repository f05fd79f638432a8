"""The bundled data files: the one place they are opened.

``drugs.json`` (drug names, aliases, classes), ``synonyms.json`` (British/US
spellings, abbreviations, lay words) and ``medical_terms.json`` (conditions,
tests, telling suffixes) and ``consumer_terms.json`` (lay phrases and brand
names -> the terms guidelines use) are read here once per process and handed to every
stage that needs them, so no stage opens a data file of its own.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

DATA_FILES = ("drugs.json", "synonyms.json", "medical_terms.json", "consumer_terms.json")


@cache
def load_data(name: str) -> dict[str, Any]:
    """One bundled data file as JSON (cached); only the names in :data:`DATA_FILES` are allowed."""
    if name not in DATA_FILES:
        raise ValueError(f"unknown vocabulary file {name!r}; expected one of {', '.join(DATA_FILES)}")
    data = json.loads(resources.files("assistant").joinpath("data", name).read_text("utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"vocabulary file {name} must hold a JSON object")
    return data
