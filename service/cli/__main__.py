"""`python -m service.cli` runs the `checkin` command."""

from service.cli import main

main()
