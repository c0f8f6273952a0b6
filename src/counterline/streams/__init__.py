"""Who may read which streams: the change feed that keeps open sockets honest."""
