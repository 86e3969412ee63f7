#!/usr/bin/env python3
"""Build hand-made VRRP test vectors from the RFC field layouts and verify them.

RFC 3768 (VRRPv2) and RFC 5798 (VRRPv3) publish no test vectors, so these are
built field by field from RFC 3768 §5.1/§5.3 and RFC 5798 §5.1/§5.2:

  VRRPv2 (RFC 3768 §5.3)              VRRPv3 (RFC 5798 §5.2)
  ver=2|type=1, vrid, prio, count     ver=3|type=1, vrid, prio, count
  auth type, adver int (s), cksum     rsvd(4)|max adver int(12, centisec), cksum
  count x IPv4 address                count x IPv4 or IPv6 address
  auth data (8 bytes)

Checksums (RFC 1071 one's complement sum):
  v2: over the VRRP message only (RFC 3768 §5.3.8)
  v3: over an IPv4 or IPv6 pseudo-header + the VRRP message (RFC 5798 §5.2.8,
      pseudo-header as RFC 2460 §8.1 / the usual RFC 768-style one for IPv4)
  IPv4 header checksum over the 20-byte header.

Then every vector is written to a raw-IP pcap with text2pcap and dissected with
tshark (IPv4 header checksum checking switched on); the script fails unless
tshark calls every VRRP checksum and IPv4 header checksum Good and reads the
same vrid/priority/count back.

It also re-checks the keepalived goldens (*.hex next to this file) with the
checksum code here, and says which v3 IPv4 checksum method keepalived used.

Usage: python3 test/golden/make-rfc-vectors.py     (writes rfc-vectors.json)
"""
import ipaddress
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_VRRP = 112


def csum(data: bytes) -> int:
    """RFC 1071 Internet checksum: one's complement of the one's complement sum."""
    if len(data) % 2:
        data += b"\0"
    s = 0
    for i in range(0, len(data), 2):
        s += (data[i] << 8) | data[i + 1]
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(a):
    return ipaddress.IPv4Address(a).packed


def ip6(a):
    return ipaddress.IPv6Address(a).packed


def ipv4_header(src, dst, payload_len, tos=0x00, ident=0, ttl=255, proto=PROTO_VRRP):
    hdr = bytearray(20)
    hdr[0] = 0x45
    hdr[1] = tos
    hdr[2:4] = (20 + payload_len).to_bytes(2, "big")
    hdr[4:6] = ident.to_bytes(2, "big")
    hdr[6:8] = b"\0\0"  # flags + fragment offset
    hdr[8] = ttl
    hdr[9] = proto
    hdr[12:16] = ip4(src)
    hdr[16:20] = ip4(dst)
    hdr[10:12] = csum(bytes(hdr)).to_bytes(2, "big")
    return bytes(hdr)


def ipv6_header(src, dst, payload_len, tclass=0x00, flow=0, hlim=255, nh=PROTO_VRRP):
    first = (6 << 28) | (tclass << 20) | flow
    return (first.to_bytes(4, "big") + payload_len.to_bytes(2, "big")
            + bytes([nh, hlim]) + ip6(src) + ip6(dst))


def pseudo4(src, dst, length):
    return ip4(src) + ip4(dst) + bytes([0, PROTO_VRRP]) + length.to_bytes(2, "big")


def pseudo6(src, dst, length):
    return ip6(src) + ip6(dst) + length.to_bytes(4, "big") + bytes([0, 0, 0, PROTO_VRRP])


def vrrp_v2(vrid, prio, addrs, adver_int=1, auth_type=0, auth_data=b""):
    auth = auth_data.ljust(8, b"\0")[:8]
    msg = bytearray([0x21, vrid, prio, len(addrs), auth_type, adver_int, 0, 0])
    msg += b"".join(ip4(a) for a in addrs) + auth
    msg[6:8] = csum(bytes(msg)).to_bytes(2, "big")
    return bytes(msg)


def vrrp_v3(vrid, prio, addrs, max_adver_int_cs, pseudo):
    """pseudo(length) -> pseudo-header bytes for the checksum."""
    assert 0 <= max_adver_int_cs <= 0xFFF
    msg = bytearray([0x31, vrid, prio, len(addrs)])
    msg += max_adver_int_cs.to_bytes(2, "big") + b"\0\0"
    pack = ip6 if ":" in addrs[0] else ip4
    msg += b"".join(pack(a) for a in addrs)
    msg[6:8] = csum(pseudo(len(msg)) + bytes(msg)).to_bytes(2, "big")
    return bytes(msg)


def v2_packet(src, vrid, prio, addrs, **kw):
    msg = vrrp_v2(vrid, prio, addrs, **kw)
    return ipv4_header(src, "224.0.0.18", len(msg)) + msg


def v3_ipv4_packet(src, vrid, prio, addrs, cs, dst="224.0.0.18"):
    msg = vrrp_v3(vrid, prio, addrs, cs, lambda n: pseudo4(src, dst, n))
    return ipv4_header(src, dst, len(msg)) + msg


def v3_ipv6_packet(src, vrid, prio, addrs, cs, dst="ff02::12"):
    msg = vrrp_v3(vrid, prio, addrs, cs, lambda n: pseudo6(src, dst, n))
    return ipv6_header(src, dst, len(msg)) + msg


VECTORS = [
    ("rfc3768-v2-basic",
     v2_packet("192.0.2.1", 1, 100, ["192.0.2.10"]),
     "RFC 3768 §5.1/§5.3: VRRPv2 advert, vrid 1, priority 100, 1 address 192.0.2.10, "
     "auth type 0, adver int 1 s, 8 zero bytes of auth data; IPv4 192.0.2.1 -> 224.0.0.18, "
     "TOS 0, ID 0, TTL 255, proto 112. Checksum over the VRRP message only."),
    ("rfc3768-v2-owner-two-addresses",
     v2_packet("192.0.2.1", 10, 255, ["192.0.2.10", "192.0.2.11"]),
     "VRRPv2, vrid 10, priority 255 (address owner), 2 addresses, auth type 0, adver int 1 s."),
    ("rfc3768-v2-prio0-int3",
     v2_packet("192.0.2.1", 200, 0, ["203.0.113.7"], adver_int=3),
     "VRRPv2, vrid 200, priority 0 (master stopping, RFC 3768 §6.4.3), adver int 3 s."),
    ("rfc3768-v2-auth-pass",
     v2_packet("192.0.2.1", 52, 150, ["192.0.2.100"], auth_type=1, auth_data=b"s3cret"),
     "VRRPv2 with auth type 1 (simple text password, RFC 2338; reserved in RFC 3768), "
     "password 's3cret' NUL-padded to 8 bytes, as keepalived sends it (see v2-pass.hex)."),
    ("rfc5798-v3-ipv4-basic",
     v3_ipv4_packet("192.0.2.1", 1, 100, ["192.0.2.10"], 100),
     "RFC 5798 §5.1/§5.2: VRRPv3 IPv4 advert, vrid 1, priority 100, 1 address 192.0.2.10, "
     "max adver int 100 cs (1 s); IPv4 192.0.2.1 -> 224.0.0.18, TTL 255, proto 112. "
     "Checksum over the IPv4 pseudo-header (src, dst, 0, 112, VRRP length) + VRRP message."),
    ("rfc5798-v3-ipv4-prio0-maxint",
     v3_ipv4_packet("198.51.100.1", 255, 0, ["198.51.100.10", "203.0.113.10"], 0xFFF),
     "VRRPv3 IPv4, vrid 255, priority 0, 2 addresses, max adver int 4095 cs (the 12-bit maximum), "
     "source 198.51.100.1."),
    ("rfc5798-v3-ipv4-unicast",
     v3_ipv4_packet("192.0.2.1", 55, 150, ["192.0.2.100"], 100, dst="192.0.2.2"),
     "VRRPv3 IPv4 sent unicast to 192.0.2.2 (keepalived unicast_peer; not in RFC 5798): the "
     "pseudo-header uses the real destination 192.0.2.2. Same packet as v3-ipv4-unicast.hex "
     "except TOS 0 and ID 0."),
    ("rfc5798-v3-ipv6-basic",
     v3_ipv6_packet("fe80::1", 1, 100, ["2001:db8::10"], 100),
     "RFC 5798 §5.1/§5.2: VRRPv3 IPv6 advert, vrid 1, priority 100, 1 address 2001:db8::10, "
     "max adver int 100 cs; IPv6 fe80::1 -> ff02::12, traffic class 0, flow label 0, "
     "hop limit 255, next header 112. Checksum over the RFC 2460 §8.1 pseudo-header + message."),
    ("rfc5798-v3-ipv6-linklocal-first",
     v3_ipv6_packet("fe80::1", 7, 200, ["fe80::7", "2001:db8::7"], 5),
     "VRRPv3 IPv6, vrid 7, priority 200, 2 addresses with the link-local one first "
     "(RFC 5798 §5.2.9 / §7.1), max adver int 5 cs (50 ms)."),
]


def tshark_check(vectors, tmp):
    """Write vectors to a raw-IP pcap with text2pcap; dissect; compare."""
    txt = os.path.join(tmp, "vectors.txt")
    pcap = os.path.join(tmp, "vectors.pcap")
    with open(txt, "w") as f:
        for _, pkt, _ in vectors:
            for off in range(0, len(pkt), 16):
                chunk = pkt[off:off + 16]
                f.write("%06x  %s\n" % (off, " ".join("%02x" % b for b in chunk)))
            f.write("\n")
    # link type 101 = LINKTYPE_RAW (packet starts with the IPv4/IPv6 header)
    subprocess.run(["text2pcap", "-q", "-l", "101", txt, pcap], check=True)
    fields = ["frame.number", "vrrp.version", "vrrp.virt_rtr_id", "vrrp.prio",
              "vrrp.addr_count", "vrrp.checksum.status", "ip.checksum.status",
              "_ws.expert.message"]
    out = subprocess.run(
        ["tshark", "-r", pcap, "-o", "ip.check_checksum:TRUE", "-T", "fields",
         "-E", "separator=|", "-E", "occurrence=a"] + sum((["-e", x] for x in fields), []),
        check=True, capture_output=True, text=True).stdout.splitlines()
    if len(out) != len(vectors):
        raise SystemExit(f"tshark read {len(out)} packets, expected {len(vectors)}")
    # Also keep the human-readable verdict lines.
    verbose = subprocess.run(["tshark", "-r", pcap, "-o", "ip.check_checksum:TRUE", "-V"],
                             check=True, capture_output=True, text=True).stdout
    ok = True
    for (name, pkt, _), line in zip(vectors, out):
        num, ver, vrid, prio, count, vstat, ipstat, expert = line.split("|")
        is4 = pkt[0] >> 4 == 4
        want = (str(pkt[20 if is4 else 40] >> 4), str(pkt[(20 if is4 else 40) + 1]),
                str(pkt[(20 if is4 else 40) + 2]), str(pkt[(20 if is4 else 40) + 3]))
        good = (vstat == "1" and (ipstat == "1" if is4 else ipstat == "")
                and (ver, vrid, prio, count) == want and not expert)
        ok &= good
        print(f"{'ok ' if good else 'BAD'} {name}: v{ver} vrid {vrid} prio {prio} count {count} "
              f"vrrp-checksum-status {vstat} ip-header-checksum-status {ipstat or '-'}"
              + (f" expert: {expert}" if expert else ""))
    n_good = verbose.count("[Checksum Status: Good]")
    print(f"tshark -V: {n_good}/{len(vectors)} '[Checksum Status: Good]', "
          f"{verbose.count('[Header checksum status: Good]')} IPv4 '[Header checksum status: Good]'")
    return ok and n_good == len(vectors)


def check_goldens():
    """Recheck keepalived's captured packets with the checksum code above."""
    ok = True
    for fn in sorted(os.listdir(HERE)):
        if not fn.endswith(".hex"):
            continue
        for i, line in enumerate(open(os.path.join(HERE, fn)).read().split(), 1):
            pkt = bytes.fromhex(line)
            if pkt[0] >> 4 == 4:
                ihl = (pkt[0] & 15) * 4
                src, dst = pkt[12:16], pkt[16:20]
                ip_ok = csum(pkt[:ihl]) == 0
                msg = pkt[ihl:]
                ph = src + dst + bytes([0, PROTO_VRRP]) + len(msg).to_bytes(2, "big")
            else:
                ip_ok = True
                src, dst = pkt[8:24], pkt[24:40]
                msg = pkt[40:]
                ph = src + dst + len(msg).to_bytes(4, "big") + bytes([0, 0, 0, PROTO_VRRP])
            plain = csum(msg) == 0
            pseudo = csum(ph + msg) == 0
            ver = msg[0] >> 4
            method = "pseudo-header" if pseudo else "message-only" if plain else "NONE"
            good = ip_ok and (plain if ver == 2 else pseudo)
            ok &= good
            print(f"{'ok ' if good else 'BAD'} {fn}#{i}: VRRPv{ver} checksum matches {method}"
                  f"{'' if ip_ok else ', IPv4 header checksum WRONG'}")
    return ok


def main():
    vectors = [{"name": n, "hex": p.hex(), "note": note} for n, p, note in VECTORS]
    with tempfile.TemporaryDirectory(prefix="vgold-vectors.") as tmp:
        ok = tshark_check(VECTORS, tmp)
    ok = check_goldens() and ok
    if not ok:
        raise SystemExit("verification FAILED; rfc-vectors.json not written")
    with open(os.path.join(HERE, "rfc-vectors.json"), "w") as f:
        json.dump(vectors, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {len(vectors)} vectors to rfc-vectors.json")


if __name__ == "__main__":
    main()
