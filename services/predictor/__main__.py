from services.predictor.main import main

raise SystemExit(main())
