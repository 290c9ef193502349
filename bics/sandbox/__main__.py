import sys

from bics.sandbox.server import main

sys.exit(main())
