"""``casesim-app``: the planner's workbench in the browser (``sim.app.server``), served on
this machine only unless ``--host`` says otherwise."""

from __future__ import annotations

import ipaddress
import sys
from typing import Sequence

from ..cli.common import Parser, claim_output_folder, command
from ..errors import ConfigError


@command("casesim-app")
def main(argv: Sequence[str] | None = None) -> None:
    """``casesim-app [--port PORT] [--host HOST] [--out DIR]``: start the workbench and print
    its address; open it in a browser. Ctrl-C stops it (and cancels the runs it started,
    keeping what they finished)."""
    parser = Parser(prog="casesim-app", description=main.__doc__)
    parser.add_argument("--port", type=int, default=8000, help="the port to serve on (default: 8000)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="the address to serve on, 127.0.0.1 for this machine only, 0.0.0.0 to open it to the "
                             "network, with no login (default: 127.0.0.1)")
    parser.add_argument("--out", default="outputs/app",
                        help="the folder that keeps every run, comparison and search (default: outputs/app)")
    args = parser.parse_args(argv)
    if not 1 <= args.port <= 65535:
        raise ConfigError("--port", args.port, "a port from 1 to 65535")
    _check_host(args.host)
    folder = claim_output_folder(args.out, args.out)
    _check_free(args.host, args.port)

    import shiny

    from .server import create_app

    app = create_app(folder)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"casesim-app: open http://{shown}:{args.port} in your browser (runs kept in {folder}; Ctrl-C stops it)",
          flush=True)
    if not _is_loopback(args.host):
        print("casesim-app: warning: served to the network with no login: anyone who can reach this machine can "
              "run and read scenarios", file=sys.stderr, flush=True)
    shiny.run_app(app, host=args.host, port=args.port, launch_browser=False, dev_mode=False, log_level="warning")


def _check_host(host: str) -> None:
    """ConfigError unless ``host`` is an IP address or ``localhost``."""
    if host == "localhost":
        return
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ConfigError("--host", host, "an IP address of this machine (127.0.0.1, 0.0.0.0, ...) or localhost") \
            from None


def _is_loopback(host: str) -> bool:
    return host == "localhost" or ipaddress.ip_address(host).is_loopback


def _check_free(host: str, port: int) -> None:
    """ConfigError if ``port`` is taken on ``host``: said before the server starts, in one line."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigError("--port", port, f"cannot serve on {host}:{port} ({exc.strerror or exc}); "
                                              "choose another port") from None
