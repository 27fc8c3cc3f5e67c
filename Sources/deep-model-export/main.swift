import DMSServerApp

ExportCommand.main()
