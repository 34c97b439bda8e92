import sys

from benchmark.commands.cli import main

sys.exit(main())
