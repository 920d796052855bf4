"""Evaluation: read a labelled file, run every row through the full graph, write report.json + HTML.

Errors:
    EvalInputError      the data file or its columns are wrong (exit code 2, file/row/column named)
"""
