from zoo_repo.cli import run

run()
