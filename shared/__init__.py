"""Code shared by the trainer and the service. Nothing in this package imports torch."""
