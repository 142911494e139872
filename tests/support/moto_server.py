"""The moto server (DynamoDB + SQS emulator), serving one request at a time.

moto evaluates a DynamoDB ConditionExpression and then writes without a lock,
so two of its threads can both pass the same condition. DynamoDB itself
serializes the writes to one item, and the receiver's "exactly once" rests on
that. Serializing requests gives the emulator the same guarantee; connections
are still accepted concurrently.

Usage: python moto_server.py HOST PORT
"""
import os
import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def one_at_a_time(environ, start_response):
        with lock:
            return list(app(environ, start_response))

    run_simple(host, port, one_at_a_time, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
