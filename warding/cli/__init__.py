"""The ``warding`` command line: a thin shell over the app object and its services."""
