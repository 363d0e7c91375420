"""`ruen serve`: review the archive in a browser. Server-rendered pages (Jinja2) over the same
library calls the CLI makes, a JSON API behind every page, one small vendored script for the
keyboard editing; nothing from a CDN, so it works offline."""
