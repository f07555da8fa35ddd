from services.risk.main import main

raise SystemExit(main())
