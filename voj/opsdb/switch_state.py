"""Names the switch of the operator database shares between the function and the deploy tool
(`python -m deploy opsdb-switch`, docs/deploy.md §12). No Django here: the tool imports it.

The function runs on the database named by the secret ``DATABASE_URL`` (the S3 file without
it). A PostgreSQL that is not ready yet is staged as ``DATABASE_URL_NEXT``, which only the
switch's task reads; the switch writes ``DATABASE_URL`` once the accounts are on it.
"""

ACTIVE_SECRET = "DATABASE_URL"
STAGED_SECRET = "DATABASE_URL_NEXT"
# Records in the shared security state (the DynamoDB security table in production): fixed keys,
# so not hashed as the client-chosen ones are.
READ_ONLY_KEY = "operator-database#read-only"
PROGRESS_KEY = "operator-database#switch"
# The function the tool invokes inside the function (Zappa's `command` event).
TASK = "voj.opsdb.switch_task.task"
TARGETS = ("postgres", "sqlite")
