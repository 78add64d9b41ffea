"""Components declared and implemented outside the product, loaded with PMTREC_PLUGINS."""
