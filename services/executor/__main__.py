import sys

from services.executor.main import main

sys.exit(main())
