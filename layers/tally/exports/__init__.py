"""CSV exports of costs: what a user (or an admin, for everyone) takes away to a spreadsheet.

- ``request``: what may be exported by whom (``ExportRequest``, ``validate_export``);
- ``csv_export``: the file itself (``write_export``), streamed a month of records or a page of
  roll-ups at a time into any binary sink, so a large export runs in constant memory;
- ``s3``: that sink for S3 (``S3MultipartWriter``), one multipart upload part at a time.

The format is documented in docs/user-guide.md ("Exporting costs (CSV)"). Nothing here
imports boto3: the reports function hands ``S3MultipartWriter`` its client.
"""

from tally.exports.csv_export import neutralise, write_export
from tally.exports.request import EXPORT_KINDS, ExportRequest, validate_export
from tally.exports.s3 import S3MultipartWriter

__all__ = [
    "EXPORT_KINDS",
    "ExportRequest",
    "S3MultipartWriter",
    "neutralise",
    "validate_export",
    "write_export",
]
