"""The attacks ``bench.hostile`` runs, in order, each with its target."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from bench.hostile_attacks import (
    Attack,
    Outcome,
    Scale,
    Target,
    big_json,
    half_open,
    many_inputs,
    slow_upload,
)
from bench.hostile_bodies import bad_bodies, small_items
from bench.hostile_connections import big_heads, early_answer, no_read, smuggle, v2_structure

CONNECTION_TARGETS = (
    "/healthz p99 within 100 ms, a normal client within 2 x unloaded, peak RSS under 2 x before, "
    "no 5xx but 503"
)


def connection_attack(
    number: int,
    key: str,
    title: str,
    target: str,
    run: Callable[[Target, Scale], Coroutine[Any, Any, Outcome]],
    settings: tuple[tuple[str, str], ...] = (),
) -> Attack:
    """An attack of connection-level class ``number`` (1-5), held to the connection targets."""
    title = f"Class {number}: {title}"
    return Attack(key, title, f"{target}; {CONNECTION_TARGETS}", run, True, True, settings)


ATTACKS: tuple[Attack, ...] = (
    Attack("half-open", "Half-open connections", "/healthz within 1 s throughout", half_open, True),
    Attack(
        "slow-upload",
        "Slow uploads",
        "a normal client's /predict within 2 x its unloaded latency; slow clients get 408 JSON",
        slow_upload,
        True,
    ),
    Attack("big-json", "/v2 big JSON body", "an answer, /healthz within 1 s throughout", big_json),
    Attack("many-inputs", "/v2 body with many inputs", "a 4xx error body of about 1 KB", many_inputs),
    Attack(
        "bad-bodies",
        "Bodies hunting for a 500",
        "any 4xx (or 200 with finite numbers), never 500",
        bad_bodies,
    ),
    Attack("small", "Smaller items", "each item's expected status", small_items),
    connection_attack(1, "v2-structure", "/v2 bodies whose structure is the weapon", "400", v2_structure),
    connection_attack(2, "early-answer", "bodies going on after an early answer", "one answer", early_answer),
    connection_attack(3, "smuggle", "a body framed twice, a request hidden after it", "400, closed", smuggle),
    connection_attack(4, "big-head", "heads over the limits in one write", "400, closed", big_heads),
    connection_attack(
        5,
        "no-read",
        "clients pipelining requests and never reading, at a cap of 50 connections",
        "each closed by the server",
        no_read,
        (("SONGID_MAX_CONNECTIONS", "50"),),
    ),
)
ATTACK_KEYS = tuple(a.key for a in ATTACKS)
