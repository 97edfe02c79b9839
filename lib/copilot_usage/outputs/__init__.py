"""Outputs: report notebooks → ``reports/`` (``render``: HTML, PDF, workbook, Markdown digest, from the ``record`` of
what the report showed), and the watch's run and notifications."""
