from deploy.tools import main

main()
