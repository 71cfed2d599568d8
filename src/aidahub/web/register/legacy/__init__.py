"""Reading records in the legacy register format (Markdown with YAML front matter).

Real records are messy, and the legacy register is the authority during the migration, so
the reader takes everything it can understand. Each value it has to change is recorded as
``{"field", "raw", "repaired", "message", "restore"}`` (kept in ``DatasetVersion.repairs``)
and reported as a warning with the file's name and line. ``restore`` says whether an export
writes the raw value back (an impossible date, a caption in a URL field, a misspelled key)
or keeps the repaired one (HTML and scripts are neutralized for good).

- ``reader``: the state of reading one record (lines, repairs, unknown keys) and
  ``SkipRecord``, raised when a record cannot be imported at all;
- ``front_matter``: the record's text split into YAML and body, the YAML read with the line
  of every key;
- ``keys``: the format's keys, misspelled keys read as meant, markup neutralized;
- ``values``: one value of a field read and repaired (texts, links, e-mail addresses,
  ORCID iDs, dates, numbers and sizes, yes/no, lists);
- ``parts``: authors, copyright holders, contacts, licenses, publications, organs, images;
- ``body``: the Markdown body, without the legacy license section;
- ``record``: ``parse_record``, all of the above into one ``ParsedRecord``.

``importer`` stores what this package reads; ``records`` writes the format back.
"""
