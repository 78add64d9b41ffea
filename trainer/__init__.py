"""PMTRec trainer: datasets, encoders, tasks, gradient combiners, training, evaluation, export."""
