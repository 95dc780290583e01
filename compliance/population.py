"""The sample population of seed_demo (see demo_population_seed)."""
