"""workbook-tool: rating workbooks for a rubric, generated, checked and consolidated."""

__version__ = "0.1.0"
