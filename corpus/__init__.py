"""Storage and formats: the bilingual archive, ingest of source files, interchange formats.

Imports nothing else of ruen's, so that `translate` and `eval` can both build on it.
"""
