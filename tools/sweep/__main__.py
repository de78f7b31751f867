from tools.sweep.cli import main

raise SystemExit(main())
