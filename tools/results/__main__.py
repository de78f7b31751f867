from tools.results.cli import main

raise SystemExit(main())
