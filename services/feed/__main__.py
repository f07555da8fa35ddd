from services.feed.main import main

raise SystemExit(main())
