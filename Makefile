# Conveniences over the two README commands.
.PHONY: demo test run bench
demo:
	bash scripts/demo
test:
	bash scripts/test
run:
	.venv/bin/intervision run
# Benchmarks: tables beside a baseline, never asserts (benchmarks/README.md). A few minutes.
bench:
	.venv/bin/python -m benchmarks.startup
	.venv/bin/python -m benchmarks.load
	.venv/bin/python -m benchmarks.sessions_memory
	.venv/bin/python -m benchmarks.session_throughput
	PYTHONPATH=. .venv/bin/python -m benchmarks.apply_throughput
