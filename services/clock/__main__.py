from services.clock.main import main

raise SystemExit(main())
