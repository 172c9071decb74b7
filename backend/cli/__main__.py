"""`python -m backend.cli`: the `switchboard` command, run by the interpreter at hand whatever PATH holds."""

from backend.cli import main

main(prog_name="switchboard")
