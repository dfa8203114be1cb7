"""Invoice templates: an organisation's or a team's logo, colours, header, footer and terms,
numbering scheme, table columns and label language, versioned; the sandboxed text of
``text``; the label catalogue of ``labels``. See ``service`` for the use cases."""
