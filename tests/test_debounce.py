"""Adaptive debounce and the first-request budget, with times passed in."""

from __future__ import annotations

import pytest

from llama_lsp.features.completion.debounce import AdaptiveDebounce, DebounceConfig

CONFIG = DebounceConfig(min_delay=0.010, max_delay=0.120, pause_seconds=0.5, typing_factor=1.5,
                        history=8, first_request_budget=0.25)


def _typed(times: list[float], config: DebounceConfig = CONFIG) -> AdaptiveDebounce:
    debounce = AdaptiveDebounce(config)
    for time in times:
        debounce.observe(time)
    return debounce


def test_no_keystroke_means_no_delay() -> None:
    assert AdaptiveDebounce(CONFIG).delay(5.0) == 0.0


def test_first_keystroke_after_a_pause_gets_the_minimum() -> None:
    debounce = _typed([0.0, 0.1, 0.2, 1.5])  # 1.3 s pause before the last keystroke
    assert debounce.hold() == pytest.approx(0.010)
    assert debounce.delay(1.5) == pytest.approx(0.010)
    assert _typed([7.0]).delay(7.0) == pytest.approx(0.010)  # the very first keystroke


def test_fast_typing_waits_a_little_longer_than_the_typing_interval() -> None:
    debounce = _typed([0.0, 0.06, 0.12, 0.18, 0.24])  # 60 ms between keys
    assert debounce.typing_interval() == pytest.approx(0.06)
    assert debounce.delay(0.24) == pytest.approx(0.09)  # 60 ms x 1.5


def test_slow_typing_is_capped_at_the_maximum() -> None:
    debounce = _typed([0.0, 0.3, 0.6, 0.9])
    assert debounce.delay(0.9) == pytest.approx(0.120)


def test_very_fast_bursts_are_held_at_least_the_minimum() -> None:
    config = DebounceConfig(min_delay=0.05, max_delay=0.12, same_keystroke=0.0)
    debounce = _typed([0.0, 0.01, 0.02, 0.03], config)
    assert debounce.delay(0.03) == pytest.approx(0.05)


def test_median_ignores_one_slow_keystroke_and_pauses() -> None:
    debounce = _typed([0.0, 0.05, 0.10, 0.45, 0.50, 0.55, 3.0, 3.05])
    assert debounce.typing_interval() == pytest.approx(0.05)  # 0.35 is an outlier, 2.45 a pause
    assert debounce.delay(3.05) == pytest.approx(0.075)


def test_history_is_bounded() -> None:
    config = DebounceConfig(history=3)
    debounce = _typed([0.0, 0.3, 0.6, 0.9, 0.95, 1.0, 1.05], config)
    assert debounce.typing_interval() == pytest.approx(0.05)


def test_delay_counts_time_already_waited() -> None:
    debounce = _typed([0.0, 0.06, 0.12])
    assert debounce.delay(0.15) == pytest.approx(0.06)  # 90 ms hold, 30 ms gone
    assert debounce.delay(0.30) == 0.0


def test_edits_from_one_keystroke_count_once() -> None:
    debounce = _typed([0.0, 0.1, 0.2, 0.201])  # e.g. "(" then its auto-closed ")"
    assert debounce.typing_interval() == pytest.approx(0.1)
    assert debounce.delay(0.201) == pytest.approx(0.2 + 0.12 - 0.201)


@pytest.mark.parametrize("times", [
    [0.0], [0.0, 0.001], [0.0, 0.02, 0.04], [0.0, 0.2, 0.4], [0.0, 0.49], [0.0, 10.0],
    [0.0, 0.1, 5.0, 5.03, 5.06, 9.0],
])
def test_delay_stays_within_bounds(times: list[float]) -> None:
    debounce = _typed(times)
    assert CONFIG.min_delay <= debounce.hold() <= CONFIG.max_delay
    for later in (0.0, 0.005, 0.05, 0.2, 1.0):
        assert 0.0 <= debounce.delay(times[-1] + later) <= CONFIG.max_delay


def test_budget_applies_to_the_first_request_after_a_pause_only() -> None:
    debounce = AdaptiveDebounce(CONFIG)
    assert debounce.budget_for(0.0) == 0.25  # nothing typed yet
    debounce.observe(1.0)
    assert debounce.budget_for(1.01) == 0.25  # first keystroke
    debounce.observe(1.1)
    assert debounce.budget_for(1.2) is None  # typing
    assert debounce.budget_for(1.7) == 0.25  # idle since 1.1: a pause
    debounce.observe(2.5)
    assert debounce.after_pause(2.5)  # typing again after a pause


def test_config_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        DebounceConfig(min_delay=0.2, max_delay=0.1)
    with pytest.raises(ValueError):
        DebounceConfig(history=0)
