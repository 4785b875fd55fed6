from pbcount.cli import main

main()
