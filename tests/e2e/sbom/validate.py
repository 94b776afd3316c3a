#!/usr/bin/python3
"""Validates a JSON document against a published JSON schema with Debian's
python3-jsonschema. The schema's own references ($ref to sibling schema files)
are resolved from the directory it is in, never fetched.

usage: validate.py SCHEMA DOCUMENT
exits 0 when valid, 1 with one line per violation when not."""
import json
import os
import sys

import jsonschema


def main():
    schema_path, doc_path = sys.argv[1], sys.argv[2]
    with open(schema_path) as f:
        schema = json.load(f)
    store = {}
    base = os.path.dirname(os.path.abspath(schema_path))
    id_base = schema.get("$id", "").rsplit("/", 1)[0]
    for name in os.listdir(base):
        if name.endswith(".json"):
            with open(os.path.join(base, name)) as f:
                sub = json.load(f)
            store[id_base + "/" + name] = sub
            if "$id" in sub:
                store[sub["$id"]] = sub
    resolver = jsonschema.RefResolver.from_schema(schema, store=store)
    cls = jsonschema.validators.validator_for(schema)
    with open(doc_path) as f:
        doc = json.load(f)
    checker = getattr(cls, "FORMAT_CHECKER", None)
    errors = list(cls(schema, resolver=resolver, format_checker=checker).iter_errors(doc))
    for e in errors:
        print("%s: %s" % ("/".join(str(p) for p in e.absolute_path), e.message[:300]))
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
