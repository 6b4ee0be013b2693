"""Banks of known content: create, add, list, import and export."""
