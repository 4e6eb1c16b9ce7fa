"""The command line, on top of everything: parser (`python -m genre_core` and the
`genre-studio` script; genre_core/__main__.py is its entry), common (shared arguments and
reporting), commands (train, evaluate, predict, bench), table_commands (train-table,
evaluate-table), ensemble_command (train-ensemble)."""
