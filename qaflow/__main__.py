"""`python -m qaflow` is the `qaflow` command."""

from qaflow.cli import main

main()
