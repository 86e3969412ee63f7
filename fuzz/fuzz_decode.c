/* fuzz_decode: the packet decoder (and encoder) on arbitrary bytes.
 *
 * 1. decodeIp on the whole input (a raw IPv4 / IPv6 packet).
 * 2. decodeBare on input[2..] (a bare VRRP message, as an IPv6 raw socket delivers it), with
 *    the family from input[0] and the TTL / hop limit from input[1]; source and destination are
 *    what decodeIp left in infoBuf (zero when it found no IP header).
 * 3. When the decoder got as far as the checksum, the input again with the VRRP checksum
 *    recomputed by an independent RFC 1071 implementation (below): it must now verify.
 * 4. encode() with version, family, VRID, priority, count, interval and auth type from the first
 *    bytes and the addresses from the rest; the advert must carry the checksum the reference
 *    computes, and decodeIp must give back what went in.
 * Checked besides: no trap, drop reason in range, a valid message's offsets inside the input,
 * the core's checksum verdict equal to the reference's, the input buffer left unmodified. */
#include "common.h"

static uint32_t in_at, info_at, cfg_at, out_at, in_size, cfg_size, drop_count;
static uint32_t o_drop, o_vrrp_off, o_vrrp_len, o_addr_off, o_auth_off, o_count, o_family,
    o_version, o_ttl, o_cksum_ok, o_src, o_dst, o_vrid, o_prio, o_adver, o_auth_type;

enum { DROP_NONE = 0, DROP_AUTH_AH = 12, DROP_AUTH_UNKNOWN = 13 };

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc; (void)argv;
  core_boot();
  in_at = Z_coreZ_bufIn(&core);
  info_at = Z_coreZ_bufInfo(&core);
  cfg_at = Z_coreZ_bufCfg(&core);
  out_at = Z_coreZ_bufOut(&core);
  in_size = *Z_coreZ_IN_SIZ5AE(&core);
  cfg_size = *Z_coreZ_CFG_SIZ5AE(&core);
  drop_count = Z_coreZ_dropReasons(&core);
  o_drop = *Z_coreZ_INFO_DROP(&core);
  o_vrrp_off = *Z_coreZ_INFO_VRRP_OFF(&core);
  o_vrrp_len = *Z_coreZ_INFO_VRRP_LEN(&core);
  o_addr_off = *Z_coreZ_INFO_ADDR_OFF(&core);
  o_auth_off = *Z_coreZ_INFO_AUTH_OFF(&core);
  o_count = *Z_coreZ_INFO_COUNT(&core);
  o_family = *Z_coreZ_INFO_FAMILY(&core);
  o_version = *Z_coreZ_INFO_VERSION(&core);
  o_ttl = *Z_coreZ_INFO_TTL(&core);
  o_cksum_ok = *Z_coreZ_INFO_CHECKSUM_OK(&core);
  o_src = *Z_coreZ_INFO_SRC(&core);
  o_dst = *Z_coreZ_INFO_DST(&core);
  o_vrid = *Z_coreZ_INFO_VRID(&core);
  o_prio = *Z_coreZ_INFO_PRIORITY(&core);
  o_adver = *Z_coreZ_INFO_ADVER_INT(&core);
  o_auth_type = *Z_coreZ_INFO_AUTH_TYPE(&core);
  return 0;
}

static uint8_t *info(void) { return core_mem() + info_at; }
static uint16_t info16(uint32_t f) {
  uint16_t v;
  memcpy(&v, info() + f, 2); /* wasm memory is little-endian, so is x86 */
  return v;
}

/* ---- the reference checksum: RFC 1071 over 16-bit big-endian words, RFC 5798 §5.2.8 ---- */

static uint64_t ref_add(uint64_t acc, const uint8_t *p, uint32_t n) {
  uint32_t i = 0;
  for (; i + 1 < n; i += 2) acc += (uint32_t)p[i] << 8 | p[i + 1];
  if (i < n) acc += (uint32_t)p[i] << 8;
  return acc;
}
static uint16_t ref_fold(uint64_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return (uint16_t)acc;
}
/* The one's-complement sum of the message (v3: with the pseudo-header); it verifies when the
 * sum is 0xffff. */
static uint16_t ref_sum(uint32_t version, uint32_t family, const uint8_t *src, const uint8_t *dst,
                        const uint8_t *msg, uint32_t len) {
  uint64_t acc = 0;
  if (version == 3) {
    uint32_t al = family == 6 ? 16 : 4;
    acc = ref_add(acc, src, al);
    acc = ref_add(acc, dst, al);
    acc += (len >> 16) + (len & 0xffff) + 112;
  }
  return ref_fold(ref_add(acc, msg, len));
}

/* The core's checksum verdict must be the reference's, whenever it got that far. */
static void check_checksum(const char *what) {
  uint32_t len = info16(o_vrrp_len), off = info16(o_vrrp_off);
  if (len < 8) return; /* stopped before the VRRP header */
  uint32_t version = info()[o_version];
  uint32_t family = info()[o_family] == 6 ? 6 : 4;
  uint16_t s = ref_sum(version, family, info() + o_src, info() + o_dst, core_mem() + in_at + off, len);
  FUZZ_CHECK(info()[o_cksum_ok] == (s == 0xffff),
             "%s: core says checksum %s, the reference sums to 0x%04x (v%u, IPv%u, %u bytes at %u)",
             what, info()[o_cksum_ok] ? "ok" : "bad", s, version, family, len, off);
}

/* What every decode must leave behind, valid or not. `len` is how many bytes were handed in. */
static void check_info(uint32_t ret, uint32_t len, const char *what) {
  FUZZ_CHECK(ret < drop_count, "%s returned drop reason %u (only %u exist)", what, ret, drop_count);
  FUZZ_CHECK(info()[o_drop] == ret, "%s returned %u but INFO_DROP is %u", what, ret, info()[o_drop]);
  check_checksum(what);
  if (ret != DROP_NONE) return;
  /* A valid message lies inside the input, and so do its addresses and auth data. */
  uint32_t off = info16(o_vrrp_off), vlen = info16(o_vrrp_len);
  uint32_t alen = info()[o_family] == 6 ? 16 : 4;
  FUZZ_CHECK(off + vlen <= len, "%s: message [%u,+%u) beyond the %u input bytes", what, off, vlen, len);
  FUZZ_CHECK(info()[o_ttl] == 255, "%s: valid with TTL %u", what, info()[o_ttl]);
  FUZZ_CHECK(info()[o_cksum_ok] == 1, "%s: valid with a bad checksum", what);
  FUZZ_CHECK(info()[o_version] == 2 || info()[o_version] == 3, "%s: valid with version %u", what, info()[o_version]);
  FUZZ_CHECK(info()[o_count] >= 1, "%s: valid with no addresses", what);
  FUZZ_CHECK(info16(o_addr_off) + info()[o_count] * alen <= off + vlen,
             "%s: %u addresses at %u overrun the message [%u,+%u)", what, info()[o_count],
             info16(o_addr_off), off, vlen);
  if (info()[o_version] == 2) {
    uint32_t a = info16(o_auth_off);
    FUZZ_CHECK(a >= off && a + 8 <= off + vlen, "%s: v2 auth data at %u outside [%u,+%u)", what, a, off, vlen);
  }
}

/* 3: the same bytes with a correct VRRP checksum must pass the checksum check. */
static void fixed_checksum(const uint8_t *data, size_t size) {
  uint32_t len = info16(o_vrrp_len), off = info16(o_vrrp_off);
  if (len < 8 || info()[o_version] < 2 || info()[o_version] > 3) return;
  uint32_t version = info()[o_version];
  uint32_t family = info()[o_family] == 6 ? 6 : 4;
  uint8_t *msg = core_mem() + in_at + off;
  memcpy(core_mem() + in_at, data, size);
  msg[6] = msg[7] = 0;
  uint16_t c = (uint16_t)~ref_sum(version, family, info() + o_src, info() + o_dst, msg, len);
  msg[6] = c >> 8;
  msg[7] = c & 0xff;
  uint32_t r = Z_coreZ_decodeIp(&core, (u32)size);
  check_info(r, (uint32_t)size, "decodeIp (checksum fixed)");
  FUZZ_CHECK(info()[o_cksum_ok] == 1, "decodeIp: a correct checksum 0x%04x does not verify (v%u, IPv%u, %u bytes)",
             c, version, family, len);
}

/* 4: encode from the input's first bytes, check against the reference, decode it back. */
static void encode_roundtrip(const uint8_t *data, size_t size) {
  if (size < 8) return;
  uint32_t version = (data[0] & 1) ? 3 : 2, family = (data[0] & 2) ? 6 : 4, al = family == 6 ? 16 : 4;
  uint32_t vrid = data[1], prio = data[2];
  uint32_t max = (cfg_size - 48) / al;
  if (max > 255) max = 255;
  uint32_t count = 1 + data[3] % max;
  uint32_t adver = (uint32_t)data[4] | (uint32_t)data[5] << 8;
  uint32_t auth = version == 2 ? data[6] % 4 : 0;
  /* src, dst, auth data, then the addresses packed at the family's length: from the input. */
  uint8_t *cfg = core_mem() + cfg_at;
  uint32_t need = 48 + count * al;
  for (uint32_t i = 0; i < need; i++) cfg[i] = data[(7 + i) % size];
  if (family == 4) { memset(cfg + 4, 0, 12); memset(cfg + 20, 0, 12); }
  int32_t len = (int32_t)Z_coreZ_encode(&core, version, family, vrid, prio, count, adver, auth, 1, 255);
  if (version == 2 && family == 6) {
    FUZZ_CHECK(len == -1, "encode accepted VRRPv2 over IPv6 (%d)", len);
    return;
  }
  uint32_t hdr = family == 6 ? 40 : 20;
  uint32_t vlen = 8 + count * al + (version == 2 ? 8 : 0);
  FUZZ_CHECK(len == (int32_t)(hdr + vlen), "encode returned %d, expected %u", len, hdr + vlen);
  uint8_t *out = core_mem() + out_at;
  uint16_t s = ref_sum(version, family, cfg, cfg + 16, out + hdr, vlen);
  FUZZ_CHECK(s == 0xffff, "encode: the reference does not verify the advert's checksum (sum 0x%04x, v%u, IPv%u, src %u.%u.%u.%u)",
             s, version, family, cfg[0], cfg[1], cfg[2], cfg[3]);
  memcpy(core_mem() + in_at, out, len);
  uint32_t r = Z_coreZ_decodeIp(&core, (u32)len);
  check_info(r, (uint32_t)len, "decodeIp (encoded)");
  uint32_t want = version == 2 && auth == 2 ? DROP_AUTH_AH : version == 2 && auth > 2 ? DROP_AUTH_UNKNOWN : DROP_NONE;
  FUZZ_CHECK(r == want, "an encoded advert decodes with drop reason %u, expected %u", r, want);
  FUZZ_CHECK(info()[o_version] == version && info()[o_vrid] == vrid && info()[o_prio] == prio &&
                 info()[o_count] == count,
             "encode/decode: v%u vrid %u prio %u count %u came back as v%u vrid %u prio %u count %u",
             version, vrid, prio, count, info()[o_version], info()[o_vrid], info()[o_prio], info()[o_count]);
  FUZZ_CHECK(info16(o_adver) == (version == 3 ? (adver & 0x0fff) : (adver & 0xff)),
             "encode/decode: interval %u came back as %u", adver, info16(o_adver));
  FUZZ_CHECK(memcmp(core_mem() + in_at + info16(o_addr_off), cfg + 48, count * al) == 0,
             "encode/decode: the addresses differ");
  FUZZ_CHECK(memcmp(info() + o_src, cfg, al) == 0 && memcmp(info() + o_dst, cfg + 16, al) == 0,
             "encode/decode: source or destination differ");
  if (version == 2) {
    FUZZ_CHECK(info()[o_auth_type] == auth, "encode/decode: auth type %u came back as %u", auth, info()[o_auth_type]);
    if (r == DROP_NONE && auth == 1) {
      FUZZ_CHECK(memcmp(core_mem() + in_at + info16(o_auth_off), cfg + 32, 8) == 0, "encode/decode: the password differs");
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > in_size) return -1; /* -max_len=4096: the buffer's size; longer is not an input */
  uint8_t *mem = core_mem();

  memset(mem + in_at, 0, in_size);
  memcpy(mem + in_at, data, size);
  uint32_t r = Z_coreZ_decodeIp(&core, (u32)size);
  check_info(r, (uint32_t)size, "decodeIp");
  /* The decoder must not write into the packet it reads. */
  FUZZ_CHECK(memcmp(mem + in_at, data, size) == 0, "decodeIp modified inBuf");
  fixed_checksum(data, size);

  if (size >= 2) {
    uint32_t len = (uint32_t)size - 2;
    memset(mem + in_at, 0, in_size);
    memcpy(mem + in_at, data + 2, len);
    Z_coreZ_decodeIp(&core, 0); /* clears infoBuf: source and destination are zero */
    r = Z_coreZ_decodeBare(&core, len, data[0], data[1]);
    check_info(r, len, "decodeBare");
  }
  /* Out-of-range lengths are refused, not read. */
  r = Z_coreZ_decodeIp(&core, (u32)-1);
  FUZZ_CHECK(r < drop_count, "decodeIp(-1) returned %u", r);
  r = Z_coreZ_decodeBare(&core, in_size + 1, 6, 255);
  FUZZ_CHECK(r < drop_count, "decodeBare(4097) returned %u", r);

  encode_roundtrip(data, size);
  return 0;
}
