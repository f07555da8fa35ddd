from services.ledger.main import main

raise SystemExit(main())
