"""The protocol's stdout survives llama-cpp-python pointing fd 1 at /dev/null (model loads)."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import os, sys
from llama_cpp._utils import suppress_stdout_stderr
from llama_lsp.server.transport import DescriptorWriter, claim_stdout
protocol = DescriptorWriter(claim_stdout())
with suppress_stdout_stderr(disable=False):  # what Llama(verbose=False) does while loading
    protocol.write(b"reply-during-load")
    print("stray print", flush=True)
print("after load", flush=True)
"""


def test_replies_written_while_a_model_loads_reach_the_client() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, timeout=60,
                            check=True)
    assert result.stdout == b"reply-during-load"
    assert b"after load" in result.stderr and b"stray" not in result.stdout
