"""AWS-like HTTPS endpoints in front of moto, for bench/first_delivery.py.

- `make_chain`: a certificate chain shaped like AWS's (a root CA, an
  intermediate, one leaf per service host; RSA 2048 and SHA-256 throughout,
  as Amazon Root CA 1 -> Amazon RSA 2048 M0x -> dynamodb.us-east-1...).
- `Terminator`: one TLS listener per service host on 127.0.0.1, each with
  its own leaf (sent with the intermediate, as AWS sends it), forwarding the
  plain HTTP to moto; it records, on the caller's clock
  (`time.perf_counter_ns`), every TLS handshake (accept -> handshake done,
  which is mostly the client's share of it) and every request's time inside
  moto (request forwarded -> response read), so that the emulator's time can
  be subtracted from what the client saw.

Only 127.0.0.1 is listened on and contacted.
"""
import datetime, http.client, http.server, os, re, socket, ssl, sys, threading, time  # noqa: E401

HOP = ("content-length", "transfer-encoding", "connection", "server", "date")


def make_chain(directory, hosts):
    """Writes DIR/root.pem and, per host, DIR/<host>.chain.pem (leaf then
    intermediate) and DIR/<host>.key; returns (root path, {host: (chain, key)})."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def name(*parts):
        return x509.Name([x509.NameAttribute(oid, value) for oid, value in parts])

    def key():
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def cert(subject, issuer, public, signer, issuer_public, ca, path_length=None, sans=(), days=2):
        b = (
            x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public), critical=False)
        )
        if ca:
            b = b.add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                              content_commitment=False, key_encipherment=False,
                                              data_encipherment=False, key_agreement=False,
                                              encipher_only=False, decipher_only=False), critical=True)
        else:
            b = (b.add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=True,
                                               content_commitment=False, data_encipherment=False,
                                               key_agreement=False, key_cert_sign=False, crl_sign=False,
                                               encipher_only=False, decipher_only=False), critical=True)
                 .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                 .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in sans]), critical=False))
        return b.sign(signer, hashes.SHA256())

    pem = lambda c: c.public_bytes(serialization.Encoding.PEM)  # noqa: E731
    root_key, mid_key = key(), key()
    root_name = name((NameOID.COUNTRY_NAME, "XX"), (NameOID.ORGANIZATION_NAME, "gu1-webhook bench"),
                     (NameOID.COMMON_NAME, "gu1-webhook bench Root CA 1"))
    mid_name = name((NameOID.COUNTRY_NAME, "XX"), (NameOID.ORGANIZATION_NAME, "gu1-webhook bench"),
                    (NameOID.COMMON_NAME, "gu1-webhook bench RSA 2048 M01"))
    root = cert(root_name, root_name, root_key.public_key(), root_key, root_key.public_key(), True, days=30)
    mid = cert(mid_name, root_name, mid_key.public_key(), root_key, root_key.public_key(), True, path_length=0,
               days=10)
    out = {}
    for host in hosts:
        leaf_key = key()
        leaf = cert(name((NameOID.COMMON_NAME, host)), mid_name, leaf_key.public_key(), mid_key,
                    mid_key.public_key(), False, sans=[host])
        chain, keyfile = os.path.join(directory, f"{host}.chain.pem"), os.path.join(directory, f"{host}.key")
        with open(chain, "wb") as f:
            f.write(pem(leaf) + pem(mid))
        with open(keyfile, "wb") as f:
            f.write(leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
        out[host] = (chain, keyfile)
    root_path = os.path.join(directory, "root.pem")
    with open(root_path, "wb") as f:
        f.write(pem(root))
    return root_path, out


class _Listener(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, terminator, host, context, handler):
        self.terminator, self.host, self.context = terminator, host, context
        super().__init__(("127.0.0.1", 0), handler)
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def handle_error(self, request, client_address):
        # A client that went away (the bench stops each process): no traceback.
        if not isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError, OSError)):
            super().handle_error(request, client_address)


class _Forward(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def setup(self):
        server = self.server
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # moto's connection is opened before the handshake, outside any timing.
        self.upstream = http.client.HTTPConnection(server.terminator.upstream_host, server.terminator.upstream_port,
                                                   timeout=30)
        self.upstream.connect()
        self.upstream.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        accepted = time.perf_counter_ns()
        self.request = server.context.wrap_socket(self.request, server_side=True, do_handshake_on_connect=False)
        try:
            self.request.do_handshake()
        except (OSError, ssl.SSLError):
            server.terminator.record("handshake_failed", server.host, accepted, time.perf_counter_ns())
            raise
        server.terminator.record("handshake", server.host, accepted, time.perf_counter_ns(),
                                 self.request.version())
        self.connection = self.request
        super().setup()

    def finish(self):
        try:
            super().finish()
        finally:
            self.upstream.close()

    def forward(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        action = re.search(rb"Action=(\w+)", body)
        op = self.headers.get("X-Amz-Target") or (action[1].decode() if action else self.command)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
        started = time.perf_counter_ns()
        self.upstream.request(self.command, self.path, body=body, headers=headers)
        resp = self.upstream.getresponse()
        data = resp.read()
        self.server.terminator.record("request", self.server.host, started, time.perf_counter_ns(), op)
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in HOP:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = forward


class Terminator:
    """One TLS listener per host in `chains` ({host: (chain, key)}), each
    forwarding to moto at `upstream` (host, port). `events`: (kind, host,
    start_ns, end_ns, detail), kind "handshake" or "request"."""

    def __init__(self, chains, upstream):
        self.upstream_host, self.upstream_port = upstream
        self.events, self.lock, self.listeners = [], threading.Lock(), {}
        for host, (chain, keyfile) in chains.items():
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(chain, keyfile)
            self.listeners[host] = _Listener(self, host, context, _Forward)

    def port(self, host):
        return self.listeners[host].port

    def record(self, kind, host, start, end, detail=None):
        with self.lock:
            self.events.append((kind, host, start, end, detail))

    def between(self, start_ns, end_ns):
        """The events that began in [start_ns, end_ns]."""
        with self.lock:
            return [e for e in self.events if start_ns <= e[2] <= end_ns]

    def close(self):
        for listener in self.listeners.values():
            listener.shutdown()
            listener.server_close()
