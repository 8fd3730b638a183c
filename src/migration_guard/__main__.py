from migration_guard.entry import main

main()
