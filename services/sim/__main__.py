import sys

from services.sim.main import main

sys.exit(main())
