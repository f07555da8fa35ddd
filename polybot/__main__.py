from polybot.cli import main

raise SystemExit(main())
