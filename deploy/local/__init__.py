"""Local stand-ins for AWS: DynamoDB Local, SeaweedFS (S3), PostgreSQL, the CloudFront edge,
the Lambda harness and moto_server, and the prod-like mode that runs voj against them
(`make run-aws`, deploy/local/aws.py). The tests, the benchmarks and `make run-aws` use them;
nothing here ships or touches a real AWS account."""
