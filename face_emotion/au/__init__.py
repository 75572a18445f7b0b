"""Action Unit measurement: the AU table definition and the backends that fill it."""
