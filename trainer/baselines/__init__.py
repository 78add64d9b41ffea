"""The strong single-model baselines users compare against: ALS and EASE.

They train, evaluate (the product's full-ranking evaluator, validation for selection, test
once) and export bundles like the multi-task models: ``python -m trainer.fit --method als``.
This package's top level imports nothing heavy, so the CLI can list the methods cheaply.
"""

BASELINE_METHODS = ("als", "ease")
