"""Where the data lives: the data dir (a folder or an object-store URL) and how to reach it; shared by ingest, cache
and outputs."""
