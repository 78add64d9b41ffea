"""The ranking stage: multi-task rankers (shared-bottom, MMoE, PLE, STEM-Net, DRGrad) that
score a sample's features for several binary objectives."""
