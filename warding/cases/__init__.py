"""Cases: one per item, with every reason it was opened."""
