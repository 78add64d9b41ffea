"""``python -m service.index build BUNDLE``: store a bundle's item index ahead of time.

For bundle folders the API may not write to (a read-only volume shared by replicas): run this
once where the folder is writable, with the same index settings (``PMTREC_INDEX_KIND``,
``PMTREC_HNSW_M``, ...) as the service. Exit status 2 when the bundle does not verify.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from service.index.stored_index import INDEX_FILE, load_item_index
from shared.bundle import BundleError, load_bundle
from shared.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service.index", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="build and store the item index of a bundle")
    build.add_argument("bundle", type=Path, help="the bundle folder")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        bundle = load_bundle(args.bundle, verify=True)
    except BundleError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    index = load_item_index(bundle, Settings())
    if index.kind == "exact":
        print(f"{args.bundle}: the exact index is rebuilt on load; nothing to store")
    elif not (args.bundle / INDEX_FILE).is_file():
        print(f"error: {args.bundle}: the index could not be stored (see above)", file=sys.stderr)
        return 1
    else:
        print(f"{args.bundle}: {index.kind} index of {index.num_items} items ({index.source})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
