"""Email rendering: what a message says (``model``) in, subject, HTML, text and headers out
(``render``). Pure: no AWS, no clock; jinja2 and css-inline load on the first render."""
