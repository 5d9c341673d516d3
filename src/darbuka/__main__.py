from darbuka.cli import main

main()
