"""Online backups of the database (``warding backup``)."""
