"""`python -m workbook_tool` runs the command line."""

from .cli import main

main(prog_name="workbook-tool")
