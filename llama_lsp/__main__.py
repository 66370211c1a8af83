"""Allow ``python -m llama_lsp``."""

import sys

from llama_lsp.cli.main import main

sys.exit(main())
