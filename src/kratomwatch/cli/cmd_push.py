"""``kratomwatch push-keys``: print a new VAPID key pair for the environment of a production
server (``KRATOMWATCH_VAPID_PRIVATE_KEY``, ``KRATOMWATCH_VAPID_PUBLIC_KEY``)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "push-keys", help="print a new Web Push (VAPID) key pair as environment settings"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from kratomwatch.config import new_vapid_keys

    private, public = new_vapid_keys()
    print(f"KRATOMWATCH_VAPID_PRIVATE_KEY={private}")
    print(f"KRATOMWATCH_VAPID_PUBLIC_KEY={public}")
    return 0
