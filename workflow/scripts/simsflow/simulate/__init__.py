"""Physics-based ToF-SIMS simulator for the demo studies and for tests with a known truth."""
