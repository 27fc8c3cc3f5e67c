#!/usr/bin/env python3
"""Extracts the structural schema of KServe's custom resources for the offline manifest tests.

tests/e2e/test_kubernetes_manifests.py validates deploy/kubernetes/kserve-*.yaml against the
schemas this script writes to deploy/kubernetes/schemas/<kind>.json (lowercase kind), without a
cluster or the network. Each file holds

    {"source": {repository, path, version, commit, crd, group, kind, apiVersion, ...},
     "schema": <the CRD's openAPIV3Schema for its served version>}

where the schema keeps only what constrains a document: the keywords in KEPT below. Everything
else (description text, defaults, examples, CEL rules, ...) is dropped, and the header counts what
was dropped, keyword by keyword, so nothing disappears unnoticed. Property names are never
touched: a field called `description` or `default` stays a field.

Two ways to give it the CRDs (from a KServe release; its config/crd/full/ folder):

    # from a clone of github.com/kserve/kserve, at a tag or commit
    scripts/kserve-crd-schemas.py --git-dir ~/src/kserve --ref v0.20.0

    # from CRD files on disk; then say where they came from
    scripts/kserve-crd-schemas.py --version v0.20.0 --commit 1fb7810... \\
        serving.kserve.io_servingruntimes.yaml serving.kserve.io_inferenceservices.yaml

The output is sorted and indented the same way each time, so a regenerated file differs from the
stored one only where KServe's schema changed.
"""

import argparse
import collections
import json
import pathlib
import subprocess
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = ROOT / "deploy" / "kubernetes" / "schemas"
REPOSITORY = "github.com/kserve/kserve"
# Where a KServe release keeps the CRDs the tests need (the "full" set is the one installed).
DEFAULT_PATHS = (
    "config/crd/full/serving.kserve.io_servingruntimes.yaml",
    "config/crd/full/serving.kserve.io_inferenceservices.yaml",
)

# Schema keywords that say what a document may hold. Kept wherever they appear in a schema.
KEPT = frozenset(
    {
        "type",
        "properties",
        "items",
        "required",
        "enum",
        "additionalProperties",
        "format",
        "anyOf",
        "oneOf",
        "allOf",
        "not",
        "nullable",
        "pattern",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minProperties",
        "maxProperties",
        # Kubernetes' own structural markers: unknown fields kept, int-or-string, embedded
        # objects, and how lists and maps merge.
        "x-kubernetes-preserve-unknown-fields",
        "x-kubernetes-int-or-string",
        "x-kubernetes-embedded-resource",
        "x-kubernetes-list-type",
        "x-kubernetes-list-map-keys",
        "x-kubernetes-map-type",
    }
)
# Keywords whose value is a map from field name to schema / a list of schemas / one schema.
SCHEMA_MAPS = frozenset({"properties"})
SCHEMA_LISTS = frozenset({"anyOf", "oneOf", "allOf"})
SCHEMA_ONE = frozenset({"items", "additionalProperties", "not"})


def strip(schema, dropped):
    """A copy of `schema` with only the KEPT keywords, recursively; `dropped` counts the rest."""
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key not in KEPT:
            dropped[key] += 1
            continue
        if key in SCHEMA_MAPS:
            out[key] = {name: strip(sub, dropped) for name, sub in value.items()}
        elif key in SCHEMA_LISTS:
            out[key] = [strip(sub, dropped) for sub in value]
        elif key in SCHEMA_ONE:
            # items may be one schema (always, in a CRD); additionalProperties a schema or a bool.
            out[key] = [strip(sub, dropped) for sub in value] if isinstance(value, list) else strip(value, dropped)
        else:
            out[key] = value
    return out


def served_version(crd):
    """The version entry documents should use: the storage version among the served ones."""
    served = [v for v in crd["spec"]["versions"] if v.get("served")]
    if not served:
        raise SystemExit(f"{crd['metadata']['name']}: no served version")
    storage = [v for v in served if v.get("storage")]
    return (storage or served)[0]


def extract(text, source):
    """(kind, document to write) for each CRD in the YAML `text`."""
    results = []
    for crd in yaml.safe_load_all(text):
        if not crd or crd.get("kind") != "CustomResourceDefinition":
            continue
        version = served_version(crd)
        dropped = collections.Counter()
        schema = strip(version["schema"]["openAPIV3Schema"], dropped)
        kind = crd["spec"]["names"]["kind"]
        header = dict(source)
        header.update(
            {
                "crd": crd["metadata"]["name"],
                "group": crd["spec"]["group"],
                "kind": kind,
                "apiVersion": f"{crd['spec']['group']}/{version['name']}",
                "servedVersions": [v["name"] for v in crd["spec"]["versions"] if v.get("served")],
                "generator": "scripts/kserve-crd-schemas.py",
                "keptKeywords": sorted(KEPT),
                "droppedKeywords": dict(sorted(dropped.items())),
            }
        )
        results.append((kind, {"source": header, "schema": schema}))
    return results


def sorted_keys(value):
    """`value` with every map's keys in order, so the output is the same from run to run."""
    if isinstance(value, dict):
        return {key: sorted_keys(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [sorted_keys(item) for item in value]
    return value


def git(git_dir, *args):
    return subprocess.run(["git", "--git-dir", str(git_dir), *args], check=True, capture_output=True, text=True).stdout


def git_dir_of(path):
    """The git directory of a clone (its .git) or of a bare repository."""
    path = pathlib.Path(path)
    return path / ".git" if (path / ".git").exists() else path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", help="CRD YAML files (without --git-dir)")
    parser.add_argument("--git-dir", help="a clone of KServe (or its git directory) to read the CRDs from")
    parser.add_argument("--ref", default="HEAD", help="the tag or commit to read with --git-dir (default HEAD)")
    parser.add_argument("--paths", nargs="+", default=list(DEFAULT_PATHS), help="CRD paths inside the repository")
    parser.add_argument("--version", help="KServe's version the files come from (files mode)")
    parser.add_argument("--commit", help="KServe's commit the files come from (files mode)")
    parser.add_argument("--source-dir", default="config/crd/full", help="the files' folder in the repository (files mode)")
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT), help=f"where to write <kind>.json (default {DEFAULT_OUTPUT.relative_to(ROOT)})")
    args = parser.parse_args(argv)

    inputs = []  # (source header, YAML text)
    if args.git_dir:
        if args.files:
            parser.error("give CRD files or --git-dir, not both")
        git_dir = git_dir_of(args.git_dir)
        commit = git(git_dir, "rev-parse", f"{args.ref}^{{commit}}").strip()
        try:
            version = git(git_dir, "describe", "--tags", "--exact-match", commit).strip()
        except subprocess.CalledProcessError:
            version = git(git_dir, "describe", "--tags", "--always", commit).strip()
        for path in args.paths:
            inputs.append(({"repository": REPOSITORY, "path": path, "version": version, "commit": commit}, git(git_dir, "show", f"{commit}:{path}")))
    else:
        if not args.files:
            parser.error("give CRD files, or --git-dir")
        if not (args.version and args.commit):
            parser.error("files mode needs --version and --commit (where the files come from)")
        for file in args.files:
            path = f"{args.source_dir.rstrip('/')}/{pathlib.Path(file).name}"
            inputs.append(({"repository": REPOSITORY, "path": path, "version": args.version, "commit": args.commit}, pathlib.Path(file).read_text()))

    output = pathlib.Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    for source, text in inputs:
        extracted = extract(text, source)
        if not extracted:
            raise SystemExit(f"{source['path']}: no CustomResourceDefinition in it")
        for kind, document in extracted:
            target = output / f"{kind.lower()}.json"
            # The header first, then the schema; keys sorted within each.
            ordered = {"source": sorted_keys(document["source"]), "schema": sorted_keys(document["schema"])}
            target.write_text(json.dumps(ordered, indent=1, ensure_ascii=False) + "\n")
            dropped = ", ".join(f"{k} ×{n}" for k, n in document["source"]["droppedKeywords"].items()) or "nothing"
            print(f"{target}: {document['source']['apiVersion']} {kind} from {source['path']} at {source['version']} ({source['commit'][:12]}); dropped {dropped}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
