"""Fuzzing the real server on stdio: every method, the three position encodings, broken JSON
and broken frames. Every request gets exactly one reply and the process stays alive.

A few hundred messages per run; ``bench/fuzz.py`` runs the same strategies for longer, with
the model-backed commands (docstring, fix, implement) given valid arguments too: those take
seconds to minutes with a random-weight model, too slow here.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from lsp_fuzz import COMMANDS, NOT_IN_SESSION, FuzzSession, FuzzStats, messages, templates
from tiny_models import TinyModelInfo

from llama_lsp.server.app import create_server

BATCHES_PER_ENCODING = 60


def _registered() -> tuple[set[str], set[str]]:
    fm = create_server().protocol.fm
    return set(fm.features) | set(fm.builtin_features), set(fm.commands)


def test_every_registered_method_and_command_is_fuzzed() -> None:
    methods, commands = _registered()
    assert methods <= set(templates("model.gguf"))
    assert commands <= set(COMMANDS)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32"])
def test_fuzzed_traffic_gets_one_reply_per_request(encoding: str,
                                                   constant_model: TinyModelInfo) -> None:
    stats = FuzzStats()
    model = str(constant_model.path)
    session = FuzzSession(model, encoding, stats)
    methods = sorted(set(templates(model)) - NOT_IN_SESSION)

    @settings(max_examples=BATCHES_PER_ENCODING, deadline=None, database=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(batch=st.lists(messages(model, methods, session.next_id, model_commands=False),
                          min_size=1, max_size=5))
    def run(batch: list) -> None:
        session.send(batch)
        assert stats.problems == []

    try:
        run()
    finally:
        session.finish()
    assert stats.problems == [], stats.problems
    assert stats.tried >= BATCHES_PER_ENCODING and stats.crashes == stats.hangs == 0
    assert stats.slow == 0
