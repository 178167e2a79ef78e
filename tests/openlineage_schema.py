"""Validate OpenLineage events against the spec's JSON schemas (tests/fixtures/openlineage).

The core schema (spec 2-0-2) checks the event; each facet is then checked against the
schema its ``_schemaURL`` names, so a facet with a wrong field fails too.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

SCHEMAS = Path(__file__).resolve().parent / "fixtures" / "openlineage"
CORE = "https://openlineage.io/spec/2-0-2/OpenLineage.json"


@cache
def registry() -> Registry:
    resources = []
    for path in sorted(SCHEMAS.glob("*.json")):
        schema = json.loads(path.read_text())
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


def _validator(ref: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": ref}, registry=registry())


def errors(event: dict[str, Any]) -> list[str]:
    """Every schema violation of ``event`` and of its facets; [] when it is valid."""
    found = [
        f"event: {e.message}" for e in _validator(f"{CORE}#/$defs/RunEvent").iter_errors(event)
    ]
    for where, facet in _facets(event):
        url = facet.get("_schemaURL", "")
        if not url.startswith("https://openlineage.io/spec/facets/"):
            found.append(f"{where}: unknown facet schema {url!r}")
            continue
        found.extend(f"{where}: {e.message}" for e in _validator(url).iter_errors(facet))
    return found


def _facets(event: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    holders: list[tuple[str, dict[str, Any]]] = [
        ("run", event.get("run", {}).get("facets") or {}),
        ("job", event.get("job", {}).get("facets") or {}),
    ]
    for side, facet_key in (("inputs", "inputFacets"), ("outputs", "outputFacets")):
        for index, dataset in enumerate(event.get(side) or []):
            holders.append((f"{side}[{index}]", dataset.get("facets") or {}))
            holders.append((f"{side}[{index}].{facet_key}", dataset.get(facet_key) or {}))
    return [
        (f"{where}.{name}", facet) for where, facets in holders for name, facet in facets.items()
    ]
