"""One module per sub-command of ``autograd-tiny``; each has ``register(subparsers)``."""

from . import check, demo, explain, grade, site, train, worksheet

#: Sub-command modules in the order ``--help`` lists them.
COMMANDS = (demo, check, explain, train, worksheet, grade, site)
