"""Actions after a decision, carried out by plug-in sinks."""
