"""Search: the message index's queries, the query syntax, the custom dictionary and the API."""
