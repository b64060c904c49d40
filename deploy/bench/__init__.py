"""The benchmarks behind docs/performance.md: the packaged handler's cold start and warm
latency (latency.py), the catalogue's DynamoDB units (dynamodb.py) and the operator database
file by size (opsdb.py). `make bench` runs them all (python -m deploy.bench); report.py renders
the page from performance.md.template."""
