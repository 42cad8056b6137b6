"""``kratomwatch token``: create, list and revoke personal access tokens for the JSON API."""

from __future__ import annotations

import argparse

from .db import add_db_arguments, fail, setup_django


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("token", help="create, list or revoke API access tokens")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="create a token; its secret is shown once")
    create.add_argument("--user", required=True, metavar="USERNAME")
    create.add_argument("--name", required=True, help="what the token is for")
    create.add_argument("--scope", choices=["read", "write"], default="read")
    create.add_argument("--days", type=int, default=90, help="days until it expires (1-365)")
    listing = actions.add_parser("list", help="list a user's tokens (never their secrets)")
    listing.add_argument("--user", required=True, metavar="USERNAME")
    revoke = actions.add_parser("revoke", help="revoke a token by its prefix")
    revoke.add_argument("--user", required=True, metavar="USERNAME")
    revoke.add_argument("prefix", help="the token's start as listed, e.g. kw_AbCd1234")
    for p in (create, listing, revoke):
        add_db_arguments(p)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    setup_django(args)
    from kratomwatch.clinic.actions.tokens import MAX_DAYS, do_create_token, do_revoke_token
    from kratomwatch.clinic.models import ApiToken, User

    user = User.objects.filter(username=args.user).first()
    if user is None:
        return fail(f"no user named {args.user!r}")
    if args.action == "create":
        if not 1 <= args.days <= MAX_DAYS:
            return fail(f"--days must be between 1 and {MAX_DAYS} (got {args.days})")
        new = do_create_token(
            user=user, name=args.name, scope=args.scope, days=args.days, operator=True
        )
        print(new.secret)
        print(
            f"Keep this secret now: it is not stored and cannot be shown again. "
            f"Expires {new.token.expires_at:%Y-%m-%d}."
        )
        return 0
    tokens = ApiToken.objects.filter(user=user).order_by("-created")
    if args.action == "list":
        for t in tokens:
            state = "revoked" if t.revoked_at else f"expires {t.expires_at:%Y-%m-%d}"
            print(f"kw_{t.prefix}…  {t.scope:5}  {state}  {t.name}")
        return 0
    token = tokens.filter(prefix=args.prefix.removeprefix("kw_")[:8]).first()
    if token is None:
        return fail(f"no token of {args.user} starts with {args.prefix!r}")
    do_revoke_token(user=user, token=token, operator=True)
    print(f"Revoked kw_{token.prefix}…")
    return 0
