"""The thread count follows the cores other programs leave free (``threads`` unset)."""

from __future__ import annotations

import pytest
from tiny_models import TinyModelInfo

from llama_lsp.config.settings import Settings
from llama_lsp.model.backend import GenerationRequest
from llama_lsp.model.embedded import EmbeddedBackend
from llama_lsp.model.free_cores import FreeCores, busy_seconds

STAT = """cpu  300 0 100 900 50 0 0 0 0 0
cpu0 100 0 50 400 20 0 0 0 0 0
cpu1 150 0 30 300 10 0 0 0 0 0
cpu2 50 0 20 200 20 0 0 0 0 0
intr 12345
ctxt 999
"""


def test_busy_time_counts_only_the_given_cpus_and_not_idle_or_io_wait() -> None:
    assert busy_seconds(STAT, [0, 1], 100.0) == pytest.approx((150 + 180) / 100)
    assert busy_seconds(STAT, [2], 100.0) == pytest.approx(0.7)


class FakeMachine:
    """/proc/stat and this process's CPU time, advanced by hand (two CPUs, 100 ticks/s)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.busy_ticks = [0, 0]
        self.own = 0.0
        self.readable = True

    def stat(self) -> str:
        if not self.readable:
            raise OSError("no /proc/stat")
        return "".join(f"cpu{n} {ticks} 0 0 {10_000 - ticks} 0 0 0 0 0 0\n"
                       for n, ticks in enumerate(self.busy_ticks))

    def run(self, seconds: float, others: float, ours: float) -> None:
        """``seconds`` pass with ``others`` and ``ours`` cores busy (spread over both CPUs)."""
        self.now += seconds
        for n in range(2):
            self.busy_ticks[n] += round((others + ours) / 2 * seconds * 100)
        self.own += ours * seconds

    def cores(self, pinned: int | None = None) -> FreeCores:
        return FreeCores(pinned=pinned, cpus=[0, 1], read_stat=self.stat,
                         own_seconds=lambda: self.own, clock=lambda: self.now)


def test_an_idle_machine_gets_every_core_and_a_busy_one_all_but_the_busy_ones() -> None:
    machine = FakeMachine()
    cores = machine.cores()
    assert cores.adaptive
    machine.run(1.0, others=0.1, ours=0.0)  # an editor redrawing
    assert cores.choose() == 2
    machine.run(1.0, others=1.0, ours=1.0)  # a build on one core while we generate
    assert cores.choose() == 1
    machine.run(0.5, others=0.0, ours=1.0)  # the build ended
    assert cores.choose() == 2


def test_our_own_cpu_time_is_not_counted_as_another_programs() -> None:
    machine = FakeMachine()
    cores = machine.cores()
    machine.run(1.0, others=0.0, ours=2.0)
    assert cores.choose() == 2


def test_a_look_back_shorter_than_the_tick_rounding_keeps_the_last_count() -> None:
    machine = FakeMachine()
    cores = machine.cores()
    machine.run(1.0, others=1.5, ours=0.0)
    assert cores.choose() == 1
    machine.run(0.05, others=0.0, ours=0.0)
    assert cores.choose() == 1  # 50 ms: too short to tell, the last count stays
    machine.run(0.3, others=0.0, ours=0.0)
    assert cores.choose() == 2


def test_the_threads_setting_pins_the_count() -> None:
    machine = FakeMachine()
    cores = machine.cores(pinned=2)
    assert not cores.adaptive
    machine.run(1.0, others=2.0, ours=0.0)
    assert cores.choose() == 2
    assert cores.describe() == "2 (the threads setting)"


def test_without_a_readable_proc_stat_it_is_all_cores_but_one() -> None:
    machine = FakeMachine()
    machine.readable = False
    cores = machine.cores()
    assert not cores.adaptive
    machine.run(1.0, others=0.0, ours=0.0)
    assert cores.choose() == 1
    assert "all but one" in cores.describe()


def test_proc_stat_lost_midway_falls_back_to_all_cores_but_one() -> None:
    machine = FakeMachine()
    cores = machine.cores()
    machine.run(1.0, others=0.0, ours=0.0)
    assert cores.choose() == 2
    machine.readable = False
    machine.run(1.0, others=0.0, ours=0.0)
    assert cores.choose() == 1


class SwitchingCores:
    """A thread chooser that alternates between 1 and 2 on every look."""

    def __init__(self) -> None:
        self.looks = 0
        self.current = 1

    def choose(self) -> int:
        self.looks += 1
        self.current = 1 + self.looks % 2
        return self.current


def test_generation_with_the_thread_count_changing_midway_is_unchanged(
        tiny_plain_model: TinyModelInfo) -> None:
    pinned = EmbeddedBackend.load(tiny_plain_model.path, Settings(context_size=512, threads=1))
    switching = EmbeddedBackend.load(tiny_plain_model.path, Settings(context_size=512))
    chooser = SwitchingCores()
    switching.threads = chooser  # type: ignore[assignment]
    prompt = pinned.tokenize("def add(a, b):\n    return a + b\n" * 40)[:300]
    request = GenerationRequest(prompt=prompt, max_tokens=12)
    expected = pinned.generate(request, lambda: False)
    got = switching.generate(request, lambda: False)
    assert expected.n_generated == 12
    assert chooser.looks > 12  # each prefill chunk and each token looked again
    assert (got.text, got.n_generated) == (expected.text, expected.n_generated)


def test_the_server_loads_with_the_adaptive_count_unless_threads_is_set(
        tiny_plain_model: TinyModelInfo) -> None:
    adaptive = EmbeddedBackend.load(tiny_plain_model.path, Settings(context_size=256))
    pinned = EmbeddedBackend.load(tiny_plain_model.path, Settings(context_size=256, threads=3))
    assert adaptive.threads.pinned is None
    assert pinned.threads.pinned == 3 and pinned.threads.choose() == 3
