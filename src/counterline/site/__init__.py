"""Site settings: values an administrator changes in the console (site name, logo, default
language, time zone, edit window, upload limit, retention of operational data). Each
overrides the config file's value; every server reads them from a small cache refreshed
every ``REFRESH_SECONDS``."""
