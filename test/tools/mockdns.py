#!/usr/bin/python3
"""mockdns.py - a tiny authoritative-looking DNS server for cairn's tests (stdlib only).

Listens on 127.0.0.1:PORT over UDP and TCP (--port 0 picks a free port). Prints
"mockdns listening on PORT" on stdout once both sockets are bound.

Answers (names compare case-insensitively, without a trailing dot):
  A      127.0.0.1 unless --a NAME=IPv4 gives other addresses (repeatable);
  AAAA   NOERROR with no data unless --a NAME=IPv6 gives some;
  TXT    the --txt NAME=VALUE records (one record per option; a VALUE longer than 255 bytes
         is split into several strings of one record), --txtparts NAME=S1,S2 gives one record
         made of several strings; NOERROR with no data when none;
  others NOERROR with no data.
  CAA    the --caa NAME=FLAGS,TAG,VALUE records (repeatable; VALUE may contain commas);
         --caa-servfail NAME answers SERVFAIL to CAA queries for exactly NAME (other types
         answer normally), to test that CAA lookups fail closed;
--nxdomain NAME and --servfail NAME answer NXDOMAIN / SERVFAIL for NAME and every name under
it, whatever the type. UDP answers larger than the client's limit (512, or the EDNS size) are
sent truncated (TC) so the client retries over TCP. SIGTERM and SIGINT exit cleanly.
"""

import argparse
import ipaddress
import select
import signal
import socket
import struct
import sys

QTYPE_A = 1
QTYPE_TXT = 16
QTYPE_AAAA = 28
QTYPE_OPT = 41
QTYPE_CAA = 257
RCODE_NOERROR = 0
RCODE_FORMERR = 1
RCODE_SERVFAIL = 2
RCODE_NXDOMAIN = 3

running = True


def norm(name):
    return name.rstrip(".").lower()


def split_kv(text, opt):
    if "=" not in text:
        raise SystemExit("mockdns: %s expects NAME=VALUE, got %r" % (opt, text))
    name, value = text.split("=", 1)
    return norm(name), value


class Zone:
    def __init__(self, args):
        self.a = {}
        self.aaaa = {}
        self.txt = {}
        for item in args.a:
            name, value = split_kv(item, "--a")
            ip = ipaddress.ip_address(value)
            table = self.a if ip.version == 4 else self.aaaa
            table.setdefault(name, []).append(ip.packed)
        for item in args.txt:
            name, value = split_kv(item, "--txt")
            raw = value.encode()
            parts = [raw[i:i + 255] for i in range(0, len(raw), 255)] or [b""]
            self.txt.setdefault(name, []).append(parts)
        for item in args.txtparts:
            name, value = split_kv(item, "--txtparts")
            self.txt.setdefault(name, []).append([p.encode()[:255] for p in value.split(",")])
        self.caa = {}
        for item in args.caa:
            name, value = split_kv(item, "--caa")
            parts = value.split(",", 2)
            if len(parts) != 3:
                raise SystemExit("mockdns: --caa expects NAME=FLAGS,TAG,VALUE, got %r" % item)
            tag = parts[1].encode()
            rdata = bytes([int(parts[0]) & 0xFF, len(tag)]) + tag + parts[2].encode()
            self.caa.setdefault(name, []).append(rdata)
        self.caa_servfail = [norm(n) for n in args.caa_servfail]
        self.nxdomain = [norm(n) for n in args.nxdomain]
        self.servfail = [norm(n) for n in args.servfail]

    @staticmethod
    def under(name, roots):
        return any(name == r or name.endswith("." + r) for r in roots)

    def lookup(self, name, qtype):
        """Returns (rcode, [(type, rdata bytes)])."""
        if self.under(name, self.servfail):
            return RCODE_SERVFAIL, []
        if self.under(name, self.nxdomain):
            return RCODE_NXDOMAIN, []
        if qtype == QTYPE_CAA:
            if name in self.caa_servfail:
                return RCODE_SERVFAIL, []
            return RCODE_NOERROR, [(QTYPE_CAA, r) for r in self.caa.get(name, [])]
        if qtype == QTYPE_A:
            return RCODE_NOERROR, [(QTYPE_A, ip) for ip in self.a.get(name, [bytes([127, 0, 0, 1])])]
        if qtype == QTYPE_AAAA:
            return RCODE_NOERROR, [(QTYPE_AAAA, ip) for ip in self.aaaa.get(name, [])]
        if qtype == QTYPE_TXT:
            out = []
            for parts in self.txt.get(name, []):
                out.append((QTYPE_TXT, b"".join(bytes([len(p)]) + p for p in parts)))
            return RCODE_NOERROR, out
        return RCODE_NOERROR, []


def parse_name(msg, off):
    labels = []
    for _ in range(128):
        if off >= len(msg):
            raise ValueError("name past end")
        n = msg[off]
        if n == 0:
            return ".".join(labels), off + 1
        if n & 0xC0:
            raise ValueError("compression in question")
        labels.append(msg[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n
    raise ValueError("name too long")


def edns_size(msg, off, arcount):
    """The requestor's UDP payload size from an OPT record, or 512 without EDNS."""
    for _ in range(arcount):
        if off < len(msg) and msg[off] == 0 and off + 11 <= len(msg):
            rtype, size = struct.unpack("!HH", msg[off + 1:off + 5])
            if rtype == QTYPE_OPT:
                return max(size, 512)
        break
    return 512


def answer(zone, msg, udp):
    if len(msg) < 12:
        return None
    qid, flags, qd, _an, _ns, ar = struct.unpack("!HHHHHH", msg[:12])
    if flags & 0x8000:
        return None  # a response, not a query
    rd = flags & 0x0100
    try:
        if qd != 1:
            raise ValueError("one question expected")
        qname, off = parse_name(msg, 12)
        qtype, qclass = struct.unpack("!HH", msg[off:off + 4])
        end = off + 4
    except (ValueError, struct.error):
        return struct.pack("!HHHHHH", qid, 0x8000 | 0x0080 | rd | RCODE_FORMERR, 0, 0, 0, 0)
    limit = edns_size(msg, end, ar) if udp else 65535
    rcode, rrs = zone.lookup(norm(qname), qtype)
    question = msg[12:end]
    body = b""
    for rtype, rdata in rrs:
        body += b"\xc0\x0c" + struct.pack("!HHIH", rtype, qclass, 60, len(rdata)) + rdata
    hflags = 0x8000 | 0x0400 | 0x0080 | rd | rcode  # QR AA RA
    out = struct.pack("!HHHHHH", qid, hflags, 1, len(rrs), 0, 0) + question + body
    if len(out) > limit:
        out = struct.pack("!HHHHHH", qid, hflags | 0x0200, 1, 0, 0, 0) + question
    return out


def serve_tcp(zone, conn):
    conn.settimeout(2.0)
    try:
        while True:
            hdr = recv_exact(conn, 2)
            if hdr is None:
                return
            (n,) = struct.unpack("!H", hdr)
            msg = recv_exact(conn, n)
            if msg is None:
                return
            out = answer(zone, msg, udp=False)
            if out is None:
                return
            conn.sendall(struct.pack("!H", len(out)) + out)
    except OSError:
        return
    finally:
        conn.close()


def recv_exact(conn, n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def bind_pair(port):
    """UDP and TCP sockets on the same 127.0.0.1 port (retrying when 0 picks a taken TCP port)."""
    for _ in range(50):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", port))
        chosen = udp.getsockname()[1]
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            tcp.bind(("127.0.0.1", chosen))
        except OSError:
            udp.close()
            tcp.close()
            if port != 0:
                raise
            continue
        tcp.listen(16)
        return udp, tcp, chosen
    raise SystemExit("mockdns: no free port")


def stop(_signum, _frame):
    global running
    running = False


def main():
    ap = argparse.ArgumentParser(description="mock DNS server for tests")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--a", action="append", default=[], metavar="NAME=IP")
    ap.add_argument("--txt", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--txtparts", action="append", default=[], metavar="NAME=S1,S2")
    ap.add_argument("--nxdomain", action="append", default=[], metavar="NAME")
    ap.add_argument("--servfail", action="append", default=[], metavar="NAME")
    ap.add_argument("--caa", action="append", default=[], metavar="NAME=FLAGS,TAG,VALUE")
    ap.add_argument("--caa-servfail", action="append", default=[], metavar="NAME")
    args = ap.parse_args()
    zone = Zone(args)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    udp, tcp, port = bind_pair(args.port)
    print("mockdns listening on %d" % port, flush=True)
    while running:
        try:
            ready, _, _ = select.select([udp, tcp], [], [], 0.2)
        except InterruptedError:
            continue
        for s in ready:
            try:
                if s is udp:
                    msg, peer = udp.recvfrom(65535)
                    out = answer(zone, msg, udp=True)
                    if out is not None:
                        udp.sendto(out, peer)
                else:
                    conn, _ = tcp.accept()
                    serve_tcp(zone, conn)
            except OSError:
                continue
    udp.close()
    tcp.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
