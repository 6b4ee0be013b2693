"""The law's workflows: EU TCO removal orders, preservation, complaints, DSA notices,
the DSA Transparency Database and the yearly reports (docs/legal.md)."""
