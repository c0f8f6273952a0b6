from counterline.cli import main

main()
