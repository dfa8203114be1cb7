"""Cost anomalies: days a user's spend on a service (or a large resource) is well above what
the weeks before make usual. Detection is pure (``detect``); ``episodes`` stores findings
once per episode; the alerts evaluation runs both for each user it evaluates and tells the
user through the alerts' channels; ``use_cases`` serves the API.

The package itself imports nothing: the API loads ``use_cases`` lazily, and importing it must
not pull in detection (``api.lazy``)."""
