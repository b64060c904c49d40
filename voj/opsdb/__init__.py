"""A database backend for Django's own tables in production: SQLite, kept in the bucket.

The file is downloaded at cold start and refreshed when its ETag changes; after a request
that changed it, it is written back with a conditional PUT (If-Match on the ETag it was read
at, If-None-Match on first creation). Two Lambda containers therefore cannot silently
overwrite each other: the loser's write fails loudly and it reloads.
"""
