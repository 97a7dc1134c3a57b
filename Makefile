# Conveniences over the two README commands.
.PHONY: demo test run
demo:
	bash scripts/demo
test:
	bash scripts/test
run:
	.venv/bin/intervision run
