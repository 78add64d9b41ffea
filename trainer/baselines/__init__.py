"""The strong single-model baselines users compare against: ALS and EASE.

They train, evaluate (the product's full-ranking evaluator, validation for selection, test
once) and export bundles like the multi-task models: ``python -m trainer.fit --method als``.
This package's top level imports nothing heavy, so the CLI can list the methods cheaply.
"""

BASELINE_METHODS = ("als", "ease")
# Which training interactions a baseline's input matrix holds (trainer/baselines/interactions.py):
# "all", every training interaction whatever its rating (what the service treats as seen, and
# what the multi-task models' rating task reads); "positive", only ratings above the dataset's
# threshold (what BPR samples). Chosen per method on validation.
INPUTS = ("all", "positive")
