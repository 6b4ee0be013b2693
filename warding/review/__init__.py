"""Review: decisions on cases, appeals and reversals."""
