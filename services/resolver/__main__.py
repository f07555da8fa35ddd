from services.resolver.main import main

raise SystemExit(main())
