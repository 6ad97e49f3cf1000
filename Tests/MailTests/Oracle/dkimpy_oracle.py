"""dkimpy as an oracle for MailTests (see dkimpy.sh)."""
import sys

import dkim


def keys_from(path):
    records = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, value = line.split(None, 1)
            records[name.lower().rstrip(".")] = value.encode()
    return records


def main():
    cmd = sys.argv[1]
    if cmd == "check":
        print("dkimpy", getattr(dkim, "__version__", "?"))
        return 0
    message = sys.stdin.buffer.read()
    if cmd == "sign":
        alg, canon, selector, domain, keyfile = sys.argv[2:7]
        key = open(keyfile, "rb").read().strip()
        header_c, body_c = canon.split("/")
        sig = dkim.sign(
            message, selector.encode(), domain.encode(), key,
            canonicalize=(header_c.encode(), body_c.encode()),
            signature_algorithm=b"rsa-sha256" if alg == "rsa" else b"ed25519-sha256",
            include_headers=[b"from", b"to", b"subject", b"date", b"message-id"],
        )
        sys.stdout.buffer.write(sig + message)
        return 0
    if cmd == "verify":
        records = keys_from(sys.argv[2])

        def dnsfunc(name, timeout=5):
            return records.get(name.decode().lower().rstrip("."))

        d = dkim.DKIM(message)
        try:
            print("pass" if d.verify(dnsfunc=dnsfunc) else "fail")
        except dkim.DKIMException as e:
            print("fail: " + str(e))
        return 0
    print("unknown command " + cmd, file=sys.stderr)
    return 2


sys.exit(main())
