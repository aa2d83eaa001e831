import sys

from tests.production.run import main

sys.exit(main())
