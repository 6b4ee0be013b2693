"""Signal exchanges (HMA's "exchanges", threatexchange's SignalExchangeAPIs): hash-sharing
programmes whose lists fill a Warding bank of the same name.

``apis`` knows the installed API types and describes their settings; ``service`` keeps the
configured exchanges, the API credentials and each exchange's fetch status in the database;
``fetch`` downloads an exchange's signals into its bank (``warding exchange fetch``). Nothing
is fetched unless an operator configured an exchange and runs a fetch: content stays home.
"""
