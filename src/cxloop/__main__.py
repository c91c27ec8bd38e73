"""``python -m cxloop`` = the ``cxloop`` command."""

from cxloop.cli.app import main

main()
