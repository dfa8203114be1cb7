"""One Powertools Router per area of the API."""
