"""Ingest: GitHub (or the simulator, or an exported file) → ``data/raw/``, verbatim and immutable, with provenance.

``github`` (the one network seam) over ``auth`` and ``transport`` (bounded by ``limits``); ``plan`` and ``fetch``
decide and run what to download; ``rawstore`` keeps the bytes; ``importer`` brings exported files in."""
