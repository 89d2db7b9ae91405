"""`python -m engine.cli`: the same as the `transparantie` command."""

from engine.cli import main

main()
