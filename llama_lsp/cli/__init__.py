"""Command-line entry points: one module per subcommand, each returning an exit code."""
