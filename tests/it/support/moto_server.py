"""The moto server (DynamoDB + SQS emulator), serving one request at a time.

moto evaluates a DynamoDB ConditionExpression and then writes without a lock,
so two of its threads can both pass the same condition. DynamoDB itself
serializes the writes to one item, and the receiver's "exactly once" rests on
that. Serializing requests gives the emulator the same guarantee; connections
are still accepted concurrently.

With a third argument, a directory, it serves HTTPS instead: it makes a
certificate authority and a certificate for 127.0.0.1 and localhost signed by
it, and writes the authority to DIR/ca.pem for the clients to trust. That is
how the tests reach the receiver's own TLS stack, as in AWS.

Usage: python moto_server.py HOST PORT [DIR]
"""
import datetime
import os
import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


def make_certificates(directory: str) -> tuple[str, str]:
    """Writes DIR/ca.pem and a server certificate and key it signed; returns
    the paths of the server's certificate and key."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    validity = (now - datetime.timedelta(hours=1), now + datetime.timedelta(days=1))

    def certificate(subject, issuer, public_key, signing_key, extensions):
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(validity[0])
            .not_valid_after(validity[1])
        )
        for extension, critical in extensions:
            builder = builder.add_extension(extension, critical=critical)
        return builder.sign(signing_key, hashes.SHA256())

    def name(common_name):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = certificate(
        name("gu1-webhook test CA"),
        name("gu1-webhook test CA"),
        ca_key.public_key(),
        ca_key,
        [(x509.BasicConstraints(ca=True, path_length=0), True)],
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = certificate(
        name("localhost"),
        ca.subject,
        key.public_key(),
        ca_key,
        [
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                False,
            ),
        ],
    )
    paths = {name: os.path.join(directory, name) for name in ("ca.pem", "server.pem", "server.key")}
    with open(paths["server.pem"], "wb") as f:
        f.write(server.public_bytes(serialization.Encoding.PEM))
    with open(paths["server.key"], "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    # Written last: its presence tells the test that the server is starting.
    with open(paths["ca.pem"] + ".tmp", "wb") as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    os.replace(paths["ca.pem"] + ".tmp", paths["ca.pem"])
    return paths["server.pem"], paths["server.key"]


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    ssl_context = make_certificates(sys.argv[3]) if len(sys.argv) > 3 else None
    os.environ.setdefault("MOTO_PORT", str(port))
    app = DomainDispatcherApplication(create_backend_app)
    # moto builds a service's backend on its first request, which imports
    # that service's models: seconds on a cold disk, longer than the SDK
    # clients' operation timeout. Built here, before the port answers, the
    # first CreateTable or SendMessage costs what any later one does.
    for service in ("dynamodb", "sqs"):
        app.app_instances[service] = create_backend_app(service)
    lock = threading.Lock()

    def one_at_a_time(environ, start_response):
        with lock:
            return list(app(environ, start_response))

    run_simple(
        host,
        port,
        one_at_a_time,
        threaded=True,
        request_handler=MotoRequestHandler,
        ssl_context=ssl_context,
    )


if __name__ == "__main__":
    main()
