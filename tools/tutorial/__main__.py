from tools.tutorial.cli import main

raise SystemExit(main())
