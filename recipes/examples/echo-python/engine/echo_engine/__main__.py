from echo_engine.cli import main

raise SystemExit(main())
