# Core has no models of its own to administer; the abstract sync fields live in core.models.
