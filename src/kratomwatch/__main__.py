import sys

from kratomwatch.cli import main

sys.exit(main())
