from kiosk.cli.main import run

run()
