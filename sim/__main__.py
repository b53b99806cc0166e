"""`python -m sim` runs the tankersim command line."""

from sim.cli import main

main()
