/* fuzz_events: the election state machine driven by an arbitrary sequence of events.
 *
 * Input = 2 setup bytes, then events until the input runs out.
 *   setup[0] bits: 0 slots 1+2 in sync group 0 | 1 slot 0 in group 0 too | 2 slot 1 unicast
 *                  (two peers) | 3 slot 1 no preempt | 4 slot 1 preempt delay 3 s |
 *                  5 slot 2 is the owner (priority 255) | 6 slot 0 is the owner | 7 accept mode
 *   setup[1]: slot 1's priority (0 = keep 150)
 * The three instances (all started at t0):
 *   slot 0: VRRPv2 IPv4, ifindex 1, VRID 10, prio 100, 1 s, PASS auth "vigil123",
 *           primary 192.0.2.1, VIPs 192.0.2.10 192.0.2.11
 *   slot 1: VRRPv3 IPv4, ifindex 1, VRID 51, prio 150, 100 cs, primary 192.0.2.1, VIP 192.0.2.100
 *   slot 2: VRRPv3 IPv6, ifindex 2, VRID 51, prio 200, 50 cs, primary fe80::1,
 *           VIPs fe80::100 2001:db8::100
 * Events: one opcode byte, low nibble = kind, high nibble = a small parameter (p), then
 * the kind's arguments:
 *   0 ADVANCE  d16(LE)           now += d * 250 us, then fire timers
 *   1 JUMP                       now = next deadline (+ p * 1 ms), then fire timers
 *   2 ADVERT   t pr src iv [pos xor]   a well-formed advert built with the core's encoder,
 *              received on ifindex (src>>2)&3; see advert() for the bit meanings
 *   3 RAW_IP   n16(LE) bytes...  handleIp(now, ifindex p&3, n) on the next n bytes
 *   4 RAW_BARE fam ttl srcsel n bytes...  handleVrrp on a bare message
 *   5 TRACK    a w f             instanceTrack(slot p%3, a % (MAX_TRACKS+2), (int8)w or 0, f&1)
 *   6 STOP                       instanceStop(slot p%3)
 *   7 START                      instanceStart(slot p%3)
 *   8 RECONF   pr iv fl          instanceConfigure(slot p%3, same identity, new priority,
 *                                interval, preempt...); bit 7 of fl: try a new VRID instead,
 *                                which a running instance must refuse
 *   9 GROUP    g                 instanceSetGroup(slot p%3, g%3 - 1), only while stopped
 *  10 REMOVE                     instanceFree(slot p%3), then instanceAlloc + configure it again
 *                                (stopped, tracks cleared), as a config reload does
 *   other kinds: fire timers at the current time (a no-op if nothing is due)
 *
 * After every event the action queue is drained and checked against a model of what the host
 * sees: queue length <= ACTION_CAP, every record well formed (transitions chain from the
 * state the host last saw, VIPs added / deleted alternately, every advert decodes as valid),
 * each instance's state in 0..3 and equal to the last transition, effective priority in
 * 1..255 and equal to priority + failing track weights (clamped), Master / Backup have a
 * finite deadline, Init / Fault none, and pollTimeout() lies after now: a deadline at or
 * before now once handleTimeout(now) returned 0 is a timer that will never fire on time
 * (the host would spin); after a received advert, once the timers due were fired. Tracks
 * with weight 0 must put an instance (and its sync group) in
 * Fault, and Fault must have such a cause. Any violation or wasm trap aborts. */
#include <math.h>
#include "common.h"

#define NSLOT 3

static uint32_t in_at, cfg_at, out_at, info_at, act_at;
static uint32_t ACTION_CAP, ACTION_SIZE, OUT_SIZE, IN_SIZE, MAX_TRACKS;
static uint32_t A_KIND, A_REASON, A_FROM, A_TO, A_INST, A_FAMILY, A_PRIO, A_OFF, A_LEN, A_DST;
static uint32_t I_SRC, I_DST, I_VRID, I_PRIORITY;
static uint32_t AD_PRIMARY, AD_VIPS, AD_PEERS, AD_AUTH;

enum { S_INIT = 0, S_BACKUP = 1, S_MASTER = 2, S_FAULT = 3 };

/* What the host knows about each instance: its configuration and what the actions said. */
typedef struct {
  int slot;
  uint32_t ifindex, vrid, version, family, priority, interval_cs, auth;
  int preempt, preempt_delay_cs, accept, group;
  uint8_t primary[16];
  uint8_t vips[4][16];
  int nvips;
  uint8_t peers[2][16];
  int npeers;
  int started;
  int state;       /* from the transition actions */
  int vips_added;  /* from VIPS_ADD / VIPS_DEL */
  int32_t weight[64];
  uint8_t failing[64];
} model_t;

static model_t M[NSLOT];
static double now;
static int trace; /* VIGIL_FUZZ_TRACE=1: print events and transitions (to read a crash input) */
#define TRACE(...) do { if (trace) fprintf(stderr, __VA_ARGS__); } while (0)
static const uint8_t *in_p;
static size_t in_n;

static int take(uint8_t *b) {
  if (in_n == 0) return 0;
  *b = *in_p++;
  in_n--;
  return 1;
}
static uint8_t take0(void) { uint8_t b = 0; take(&b); return b; }

static uint8_t *mem(uint32_t at) { return core_mem() + at; }
static uint16_t rd16le(uint32_t at) { uint16_t v; memcpy(&v, mem(at), 2); return v; }
static uint32_t rd32le(uint32_t at) { uint32_t v; memcpy(&v, mem(at), 4); return v; }

static void ip4(uint8_t *d, int a, int b, int c, int e) {
  memset(d, 0, 16); d[0] = a; d[1] = b; d[2] = c; d[3] = e;
}
static void ip6ll(uint8_t *d, uint8_t last) { /* fe80::last */
  memset(d, 0, 16); d[0] = 0xfe; d[1] = 0x80; d[15] = last;
}
static void ip6doc(uint8_t *d, uint8_t last) { /* 2001:db8::last */
  memset(d, 0, 16); d[0] = 0x20; d[1] = 0x01; d[2] = 0x0d; d[3] = 0xb8; d[15] = last;
}
static const uint8_t MC4[16] = {224, 0, 0, 18};
static const uint8_t MC6[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12};
static const char PASSWORD[8] = {'v', 'i', 'g', 'i', 'l', '1', '2', '3'};

static int alen(const model_t *m) { return m->family == 6 ? 16 : 4; }

static int own_fault(const model_t *m) {
  for (uint32_t i = 0; i < MAX_TRACKS; i++)
    if (m->failing[i] && m->weight[i] == 0) return 1;
  return 0;
}
static int group_fault(int g) {
  if (g < 0) return 0;
  for (int s = 0; s < NSLOT; s++)
    if (M[s].started && M[s].group == g && own_fault(&M[s])) return 1;
  return 0;
}
static uint32_t expected_priority(const model_t *m) {
  if (m->priority == 255) return 255;
  int32_t p = (int32_t)m->priority;
  for (uint32_t i = 0; i < MAX_TRACKS; i++)
    if (m->failing[i]) p += m->weight[i];
  if (p < 1) p = 1;
  if (p > 254) p = 254;
  return (uint32_t)p;
}
static int slot_index(uint32_t core_slot) {
  for (int s = 0; s < NSLOT; s++)
    if ((uint32_t)M[s].slot == core_slot) return s;
  return -1;
}

/* ---- the action queue ------------------------------------------------------------------ */

static void check_send(int s, uint32_t rec) {
  const model_t *m = &M[s];
  uint32_t family = mem(rec + A_FAMILY)[0];
  uint32_t off = rd32le(rec + A_OFF), len = rd32le(rec + A_LEN);
  uint32_t prio = mem(rec + A_PRIO)[0];
  FUZZ_CHECK(family == m->family, "slot %d sends family %u, configured %u", s, family, m->family);
  FUZZ_CHECK((uint64_t)off + len <= OUT_SIZE, "SEND [%u,+%u) beyond outBuf (%u)", off, len, OUT_SIZE);
  uint32_t want = 8 + m->nvips * alen(m) + (m->version == 2 ? 8 : 0);
  FUZZ_CHECK(len == want, "slot %d advert is %u bytes, expected %u", s, len, want);
  if (m->npeers == 0) {
    FUZZ_CHECK(memcmp(mem(rec + A_DST), family == 6 ? MC6 : MC4, alen(m)) == 0,
               "slot %d multicast advert to the wrong group", s);
  } else {
    int ok = 0;
    for (int i = 0; i < m->npeers; i++) ok |= memcmp(mem(rec + A_DST), m->peers[i], alen(m)) == 0;
    FUZZ_CHECK(ok, "slot %d unicast advert to an address that is not a peer", s);
  }
  /* Whatever we send must be what a peer (and we) would accept as well formed. */
  uint8_t dst[16] = {0};
  memcpy(dst, mem(rec + A_DST), alen(m));
  memcpy(mem(in_at), mem(out_at + off), len);
  memcpy(mem(info_at + I_SRC), m->primary, 16);
  memcpy(mem(info_at + I_DST), dst, 16);
  uint32_t r = Z_coreZ_decodeBare(&core, len, family, 255);
  FUZZ_CHECK(r == 0, "slot %d sent an advert that decodes with drop reason %u", s, r);
  FUZZ_CHECK(mem(info_at + I_VRID)[0] == m->vrid, "slot %d advert carries VRID %u", s, mem(info_at + I_VRID)[0]);
  FUZZ_CHECK(mem(info_at + I_PRIORITY)[0] == prio, "slot %d advert priority %u, record says %u", s,
             mem(info_at + I_PRIORITY)[0], prio);
}

static void drain(void) {
  uint32_t n = Z_coreZ_actionCount(&core);
  FUZZ_CHECK(n <= ACTION_CAP, "actionCount %u > ACTION_CAP %u", n, ACTION_CAP);
  for (uint32_t i = 0; i < n; i++) {
    uint32_t rec = act_at + i * ACTION_SIZE;
    uint32_t kind = mem(rec + A_KIND)[0];
    uint32_t cs = rd16le(rec + A_INST);
    int s = slot_index(cs);
    FUZZ_CHECK(s >= 0, "action %u (kind %u) for slot %u, which the host never configured", i, kind, cs);
    model_t *m = &M[s];
    switch (kind) {
      case 1: { /* TRANSITION */
        uint32_t from = mem(rec + A_FROM)[0], to = mem(rec + A_TO)[0], why = mem(rec + A_REASON)[0];
        FUZZ_CHECK(from <= 3 && to <= 3 && from != to, "slot %d transition %u -> %u", s, from, to);
        FUZZ_CHECK(why >= 1 && why <= 9, "slot %d transition with reason %u", s, why);
        FUZZ_CHECK((int)from == m->state, "slot %d transition from %u, but the host last saw %d", s, from, m->state);
        TRACE("    slot %d: %u -> %u (reason %u)\n", s, from, to, why);
        m->state = (int)to;
        break;
      }
      case 2:
        TRACE("    slot %d: send priority %u\n", s, mem(rec + A_PRIO)[0]);
        check_send(s, rec);
        break;
      case 3:
        FUZZ_CHECK(!m->vips_added, "slot %d VIPS_ADD twice", s);
        FUZZ_CHECK(m->state == S_MASTER, "slot %d VIPS_ADD in state %d", s, m->state);
        m->vips_added = 1;
        break;
      case 4:
        FUZZ_CHECK(m->vips_added, "slot %d VIPS_DEL without VIPS_ADD", s);
        FUZZ_CHECK(m->state == S_MASTER, "slot %d VIPS_DEL before leaving Master (state %d)", s, m->state);
        m->vips_added = 0;
        break;
      case 5:
        FUZZ_CHECK(m->state == S_MASTER && m->vips_added, "slot %d ANNOUNCE while not Master with VIPs", s);
        break;
      default:
        FUZZ_CHECK(0, "action %u has kind %u", i, kind);
    }
  }
  Z_coreZ_actionsClear(&core);
  FUZZ_CHECK(Z_coreZ_actionCount(&core) == 0, "actionsClear left %u actions", Z_coreZ_actionCount(&core));
}

static void check_instances(void) {
  double poll = Z_coreZ_pollTimeout(&core);
  FUZZ_CHECK(!isnan(poll), "pollTimeout() is NaN");
  FUZZ_CHECK(poll > now, "pollTimeout() = %.17g is not after now = %.17g: a due timer did not fire", poll, now);
  for (int s = 0; s < NSLOT; s++) {
    model_t *m = &M[s];
    int st = (int)Z_coreZ_instanceState(&core, m->slot);
    uint32_t ep = Z_coreZ_instanceEffectivePriority(&core, m->slot);
    double dl = Z_coreZ_instanceNextDeadline(&core, m->slot);
    FUZZ_CHECK(st >= 0 && st <= 3, "slot %d state %d", s, st);
    FUZZ_CHECK(st == m->state, "slot %d is in state %d, the transitions said %d", s, st, m->state);
    FUZZ_CHECK(ep >= 1 && ep <= 255, "slot %d effective priority %u", s, ep);
    FUZZ_CHECK(ep == expected_priority(m), "slot %d effective priority %u, expected %u", s, ep, expected_priority(m));
    FUZZ_CHECK(m->vips_added == (st == S_MASTER), "slot %d state %d with VIPs %s", s, st, m->vips_added ? "added" : "not added");
    if (!m->started) {
      FUZZ_CHECK(st == S_INIT, "slot %d stopped but in state %d", s, st);
      continue;
    }
    FUZZ_CHECK(st != S_INIT, "slot %d started but in Init", s);
    if (st == S_MASTER || st == S_BACKUP) {
      FUZZ_CHECK(isfinite(dl), "slot %d in state %d has no deadline: it would stay there forever", s, st);
      FUZZ_CHECK(dl > now, "slot %d deadline %.17g is not after now %.17g", s, dl, now);
    } else {
      FUZZ_CHECK(isinf(dl), "slot %d in Fault has a deadline %.17g", s, dl);
    }
    int cause = own_fault(m) || group_fault(m->group);
    FUZZ_CHECK(cause == (st == S_FAULT), "slot %d in state %d, but a fault cause is %s (own %d, group %d)",
               s, st, cause ? "present" : "absent", own_fault(m), group_fault(m->group));
    double mdi = Z_coreZ_instanceMasterDownInterval(&core, m->slot);
    FUZZ_CHECK(mdi > 0 && isfinite(mdi), "slot %d Master_Down_Interval %.17g", s, mdi);
  }
}

/* Fires every timer due at now, draining whenever the core says its queue is full. */
static void fire_timers(void) {
  for (int i = 0;; i++) {
    FUZZ_CHECK(i < 64, "handleTimeout(%.17g) keeps returning 1: no progress", now);
    uint32_t r = Z_coreZ_handleTimeout(&core, now);
    FUZZ_CHECK(r <= 1, "handleTimeout returned %u", r);
    drain();
    if (r == 0) break;
  }
  /* Idempotent: at the same time nothing is left to do. */
  uint32_t r = Z_coreZ_handleTimeout(&core, now);
  FUZZ_CHECK(r == 0 && Z_coreZ_actionCount(&core) == 0,
             "a second handleTimeout(%.17g) still did something (%u, %u actions)", now, r,
             Z_coreZ_actionCount(&core));
}

/* ---- configuration ------------------------------------------------------------------------ */

static void set_addrs(int slot, uint32_t kind, const uint8_t (*a)[16], int n) {
  memset(mem(cfg_at), 0, 16 * (n > 0 ? n : 1));
  for (int i = 0; i < n; i++) memcpy(mem(cfg_at + 16 * i), a[i], 16);
  uint32_t r = Z_coreZ_instanceSetAddresses(&core, slot, kind, n);
  FUZZ_CHECK(r == 0, "instanceSetAddresses(%d, %u, %d) = %u", slot, kind, n, r);
}

static uint32_t configure(model_t *m) {
  return Z_coreZ_instanceConfigure(&core, m->slot, m->ifindex, m->vrid, m->version, m->family,
                                   m->priority, m->interval_cs, m->preempt, m->preempt_delay_cs,
                                   m->accept, m->auth);
}

/* Configures the allocated slot M[s].slot from the model, the way host/core/core.ts does. */
static void add_instance(int s) {
  model_t *m = &M[s];
  uint32_t r = configure(m);
  FUZZ_CHECK(r == 0, "configure slot %d = %u", s, r);
  set_addrs(m->slot, AD_PRIMARY, (const uint8_t (*)[16])m->primary, 1);
  set_addrs(m->slot, AD_VIPS, m->vips, m->nvips);
  set_addrs(m->slot, AD_PEERS, m->peers, m->npeers);
  if (m->auth == 1) {
    memset(mem(cfg_at), 0, 16);
    memcpy(mem(cfg_at), PASSWORD, 8);
    r = Z_coreZ_instanceSetAddresses(&core, m->slot, AD_AUTH, 1);
    FUZZ_CHECK(r == 0, "set auth = %u", r);
  }
  r = Z_coreZ_instanceSetGroup(&core, m->slot, (u32)m->group);
  FUZZ_CHECK(r == 0, "set group = %u", r);
}

static void setup(uint8_t c, uint8_t prio1) {
  memset(M, 0, sizeof M);
  model_t *a = &M[0], *b = &M[1], *d = &M[2];
  a->ifindex = 1; a->vrid = 10; a->version = 2; a->family = 4; a->priority = 100;
  a->interval_cs = 100; a->auth = 1; a->preempt = 1; a->group = -1;
  ip4(a->primary, 192, 0, 2, 1); ip4(a->vips[0], 192, 0, 2, 10); ip4(a->vips[1], 192, 0, 2, 11); a->nvips = 2;
  b->ifindex = 1; b->vrid = 51; b->version = 3; b->family = 4; b->priority = 150;
  b->interval_cs = 100; b->preempt = 1; b->group = -1;
  ip4(b->primary, 192, 0, 2, 1); ip4(b->vips[0], 192, 0, 2, 100); b->nvips = 1;
  d->ifindex = 2; d->vrid = 51; d->version = 3; d->family = 6; d->priority = 200;
  d->interval_cs = 50; d->preempt = 1; d->group = -1;
  ip6ll(d->primary, 1);
  ip6ll(d->vips[0], 0); d->vips[0][14] = 0x01;   /* fe80::100 */
  ip6doc(d->vips[1], 0); d->vips[1][14] = 0x01;  /* 2001:db8::100 */
  d->nvips = 2;
  if (c & 1) { b->group = 0; d->group = 0; }
  if (c & 2) a->group = 0;
  if (c & 4) { ip4(b->peers[0], 192, 0, 2, 2); ip4(b->peers[1], 192, 0, 2, 3); b->npeers = 2; }
  if (c & 8) b->preempt = 0;
  if (c & 16) b->preempt_delay_cs = 300;
  if (c & 32) d->priority = 255;
  if (c & 64) a->priority = 255;
  if (c & 128) a->accept = b->accept = d->accept = 1;
  if (prio1) b->priority = prio1;
  for (int s = 0; s < NSLOT; s++) {
    M[s].slot = (int)Z_coreZ_instanceAlloc(&core);
    FUZZ_CHECK(M[s].slot >= 0, "instanceAlloc failed");
    add_instance(s);
  }
}

static void start(int s) {
  uint32_t r = Z_coreZ_instanceStart(&core, M[s].slot, now);
  FUZZ_CHECK(r == 0, "instanceStart(slot %d) = %u", s, r);
  M[s].started = 1;
}

/* ---- events ------------------------------------------------------------------------------- */

/* A well-formed advert from the encoder, optionally with one byte flipped.
 *   t:   bits 0-1 which instance it resembles (3 = version/family/VRID from the next byte),
 *        bit 2 received bare (handleVrrp) instead of as an IP packet, bit 3 wrong password,
 *        bit 4 auth type 0 instead of 1 (v2), bit 5 different addresses, bit 6 flip a byte,
 *        bit 7 TTL 254
 *   pr:  priority carried
 *   src: bits 0-1 source: 0 lower than our primary, 1 higher, 2 our own, 3 from the input;
 *        bits 2-3 ifindex; bit 4 unicast destination instead of the group
 *   iv:  0 = the instance's interval, otherwise this value (v2: seconds, v3: cs) */
static void advert(void) {
  uint8_t t = take0(), pr = take0(), src = take0(), iv = take0();
  uint32_t version, family, vrid;
  const model_t *like;
  if ((t & 3) == 3) {
    uint8_t x = take0();
    version = (x & 1) ? 3 : 2;
    family = (x & 2) ? 6 : 4;
    vrid = take0();
    like = family == 6 ? &M[2] : (version == 2 ? &M[0] : &M[1]);
  } else {
    like = &M[t & 3];
    version = like->version; family = like->family; vrid = like->vrid;
  }
  int al = family == 6 ? 16 : 4;
  uint8_t s_addr[16], d_addr[16];
  memcpy(s_addr, like->primary, 16);
  switch (src & 3) {
    case 0: if (family == 4) ip4(s_addr, 192, 0, 1, 200); else memset(s_addr + 2, 0, 14); break;
    case 1: s_addr[al - 1] = 9; break;
    case 2: break;
    case 3: for (int i = 0; i < al; i++) s_addr[i] = take0(); break;
  }
  if (src & 16) memcpy(d_addr, family == 6 ? M[2].primary : M[1].primary, 16);
  else memcpy(d_addr, family == 6 ? MC6 : MC4, 16);
  uint32_t ifindex = (src >> 2) & 3;
  uint32_t adver = iv ? iv : (version == 2 ? like->interval_cs / 100 : like->interval_cs);
  uint32_t auth_type = version == 2 ? ((t & 16) ? 0 : 1) : 0;

  uint8_t *cfg = mem(cfg_at);
  memset(cfg, 0, 48 + 21 * 16);
  memcpy(cfg, s_addr, 16);
  memcpy(cfg + 16, d_addr, 16);
  memcpy(cfg + 32, (t & 8) ? "wrongpw!" : PASSWORD, 8);
  int n = like->nvips;
  for (int i = 0; i < n; i++) memcpy(cfg + 48 + i * al, like->vips[i], al);
  if (t & 32) { cfg[48 + n * al - 1] ^= 0x5a; if (pr & 1) { n++; } }
  uint32_t ttl = (t & 128) ? 254 : 255;
  int bare = (t & 4) != 0;
  int32_t len = (int32_t)Z_coreZ_encode(&core, version, family, vrid, pr, n, adver, auth_type, !bare, ttl);
  if (len < 0) return; /* v2 over IPv6: the encoder refuses, and that is right */
  FUZZ_CHECK((uint32_t)len <= IN_SIZE, "encode returned %d", len);
  memcpy(mem(in_at), mem(out_at), len);
  if (t & 64) {
    uint8_t pos = take0(), x = take0();
    mem(in_at)[pos % len] ^= x ? x : 1;
  }
  uint32_t r;
  if (bare) {
    memcpy(mem(info_at + I_SRC), s_addr, 16);
    memcpy(mem(info_at + I_DST), d_addr, 16);
    r = Z_coreZ_handleVrrp(&core, now, ifindex, family, ttl, len);
  } else {
    r = Z_coreZ_handleIp(&core, now, ifindex, len);
  }
  TRACE("    advert v%u family %u vrid %u prio %u ifindex %u: drop %u\n", version, family, vrid, pr, ifindex, r);
  FUZZ_CHECK(r < 20, "handle* returned drop reason %u", r);
}

static void raw_ip(uint8_t p) {
  uint8_t lo = take0(), hi = take0();
  uint32_t n = (uint32_t)lo | ((uint32_t)hi << 8);
  if (n > IN_SIZE) n = IN_SIZE;
  uint32_t have = n <= in_n ? n : (uint32_t)in_n;
  memset(mem(in_at), 0, IN_SIZE);
  memcpy(mem(in_at), in_p, have);
  in_p += have; in_n -= have;
  uint32_t r = Z_coreZ_handleIp(&core, now, p & 3, have);
  FUZZ_CHECK(r < 20, "handleIp returned %u", r);
}

static void raw_bare(uint8_t p) {
  uint8_t fam = take0(), ttl = take0(), sel = take0(), n = take0();
  uint32_t family = (fam & 1) ? 6 : 4;
  uint8_t s_addr[16];
  memcpy(s_addr, M[family == 6 ? 2 : 1].primary, 16);
  switch (sel & 3) {
    case 0: s_addr[family == 6 ? 15 : 3] = 9; break;  /* a peer above us */
    case 1: break;                                    /* ourselves */
    default: for (int i = 0; i < 16; i++) s_addr[i] = take0(); break;
  }
  uint32_t have = n <= in_n ? n : (uint32_t)in_n;
  memset(mem(in_at), 0, IN_SIZE);
  memcpy(mem(in_at), in_p, have);
  in_p += have; in_n -= have;
  memcpy(mem(info_at + I_SRC), s_addr, 16);
  memcpy(mem(info_at + I_DST), family == 6 ? MC6 : MC4, 16);
  uint32_t r = Z_coreZ_handleVrrp(&core, now, p & 3, family, ttl, have);
  FUZZ_CHECK(r < 20, "handleVrrp returned %u", r);
}

static void track(uint8_t p) {
  model_t *m = &M[p % NSLOT];
  uint8_t a = take0(), w = take0(), f = take0();
  uint32_t index = a % (MAX_TRACKS + 2);
  int32_t weight = (f & 2) ? 0 : (int32_t)(int8_t)w;
  int failing = f & 1;
  uint32_t r = Z_coreZ_instanceTrack(&core, m->slot, index, (u32)weight, failing, now);
  if (index >= MAX_TRACKS) {
    FUZZ_CHECK(r != 0, "instanceTrack accepted index %u", index);
    return;
  }
  FUZZ_CHECK(r == 0, "instanceTrack(%u, %d) = %u", index, weight, r);
  m->weight[index] = weight;
  m->failing[index] = (uint8_t)failing;
}

static void reconf(uint8_t p) {
  model_t *m = &M[p % NSLOT];
  uint8_t pr = take0(), iv = take0(), fl = take0();
  if (fl & 128) {
    model_t x = *m;
    x.vrid = m->vrid == 255 ? 1 : m->vrid + 1;
    uint32_t r = configure(&x);
    if (m->started) {
      FUZZ_CHECK(r == 9, "a running instance accepted a new VRID (%u)", r);
    } else {
      /* Identity changes are allowed while stopped; put it back so the model stays true. */
      FUZZ_CHECK(r == 0, "a stopped instance refused a new VRID (%u)", r);
      r = configure(m);
      FUZZ_CHECK(r == 0, "restoring the VRID = %u", r);
    }
    return;
  }
  model_t x = *m;
  x.priority = pr;
  x.interval_cs = m->version == 2 ? 100u * (1 + iv % 4) : (iv ? 16u * iv : 4095u);
  x.preempt = fl & 1;
  x.preempt_delay_cs = (fl & 2) ? 100 * ((fl >> 2) & 7) : 0;
  x.accept = (fl >> 5) & 1;
  uint32_t r = configure(&x);
  if (pr == 0) {
    FUZZ_CHECK(r == 5, "priority 0 accepted (%u)", r);
    return;
  }
  FUZZ_CHECK(r == 0, "reconfigure = %u", r);
  *m = x;
}

static void set_group(uint8_t p) {
  model_t *m = &M[p % NSLOT];
  int g = take0() % 3 - 1;
  if (m->started) return;
  uint32_t r = Z_coreZ_instanceSetGroup(&core, m->slot, (u32)g);
  FUZZ_CHECK(r == 0, "instanceSetGroup(%d) = %u", g, r);
  m->group = g;
}

static void remove_and_readd(uint8_t p) {
  int s = p % NSLOT;
  model_t *m = &M[s];
  Z_coreZ_instanceFree(&core, m->slot, now);
  drain(); /* a Master's resignation and VIPS_DEL come out here */
  FUZZ_CHECK(Z_coreZ_instanceState(&core, m->slot) == (u32)-1, "a freed slot still reports a state");
  int slot = (int)Z_coreZ_instanceAlloc(&core);
  FUZZ_CHECK(slot == m->slot, "instanceAlloc gave slot %d, the freed one was %d", slot, m->slot);
  m->started = 0;
  memset(m->weight, 0, sizeof m->weight);
  memset(m->failing, 0, sizeof m->failing);
  add_instance(s);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc; (void)argv;
  core_boot();
  trace = getenv("VIGIL_FUZZ_TRACE") != NULL;
  in_at = Z_coreZ_bufIn(&core); cfg_at = Z_coreZ_bufCfg(&core); out_at = Z_coreZ_bufOut(&core);
  info_at = Z_coreZ_bufInfo(&core); act_at = Z_coreZ_bufActions(&core);
  ACTION_CAP = *Z_coreZ_ACTION_CAP(&core); ACTION_SIZE = *Z_coreZ_ACTION_SIZ5AE(&core);
  OUT_SIZE = *Z_coreZ_OUT_SIZ5AE(&core); IN_SIZE = *Z_coreZ_IN_SIZ5AE(&core);
  MAX_TRACKS = *Z_coreZ_MAX_TRACKS(&core);
  FUZZ_CHECK(MAX_TRACKS <= 62, "MAX_TRACKS %u: enlarge the model", MAX_TRACKS);
  A_KIND = *Z_coreZ_ACT_KIND(&core); A_REASON = *Z_coreZ_ACT_REASON(&core);
  A_FROM = *Z_coreZ_ACT_FROM(&core); A_TO = *Z_coreZ_ACT_TO(&core);
  A_INST = *Z_coreZ_ACT_INSTANCE(&core); A_FAMILY = *Z_coreZ_ACT_FAMILY(&core);
  A_PRIO = *Z_coreZ_ACT_PRIORITY(&core); A_OFF = *Z_coreZ_ACT_OFF(&core);
  A_LEN = *Z_coreZ_ACT_LEN(&core); A_DST = *Z_coreZ_ACT_DST(&core);
  I_SRC = *Z_coreZ_INFO_SRC(&core); I_DST = *Z_coreZ_INFO_DST(&core);
  I_VRID = *Z_coreZ_INFO_VRID(&core); I_PRIORITY = *Z_coreZ_INFO_PRIORITY(&core);
  AD_PRIMARY = *Z_coreZ_ADDR_PRIMARY(&core); AD_VIPS = *Z_coreZ_ADDR_VIPS(&core);
  AD_PEERS = *Z_coreZ_ADDR_PEERS(&core); AD_AUTH = *Z_coreZ_ADDR_AUTH(&core);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096) return -1;
  core_reset();
  in_p = data; in_n = size;
  now = 1e9; /* 1000 s of monotonic time, in microseconds */
  uint8_t c = take0(), prio1 = take0();
  setup(c, prio1);
  for (int s = 0; s < NSLOT; s++) start(s);
  drain();
  check_instances();
  uint8_t op;
  while (take(&op)) {
    uint8_t p = op >> 4;
    static const char *const names[16] = {"advance", "jump", "advert", "raw_ip", "raw_bare", "track",
        "stop", "start", "reconf", "group", "remove", "fire", "fire", "fire", "fire", "fire"};
    TRACE("t=%.0f %s p=%u\n", now, names[op & 15], p);
    switch (op & 15) {
      case 0: {
        uint32_t d = take0();
        d |= (uint32_t)take0() << 8;
        now += (double)d * 250.0;
        fire_timers();
        break;
      }
      case 1: {
        double t = Z_coreZ_pollTimeout(&core);
        if (isfinite(t) && t > now) now = t;
        else if (!isfinite(t)) now += 1e6;
        now += (double)p * 1000.0;
        fire_timers();
        break;
      }
      case 2: advert(); break;
      case 3: raw_ip(p); break;
      case 4: raw_bare(p); break;
      case 5: track(p); break;
      case 6: {
        uint32_t r = Z_coreZ_instanceStop(&core, M[p % NSLOT].slot, now);
        FUZZ_CHECK(r == 0, "instanceStop = %u", r);
        M[p % NSLOT].started = 0;
        break;
      }
      case 7: start(p % NSLOT); break;
      case 8: reconf(p); break;
      case 9: set_group(p); break;
      case 10: remove_and_readd(p); break;
      default: fire_timers(); break;
    }
    drain();
    /* A master's answer to a received advert is owed to its advert timer, due at once (never
     * sent from the packet path: a backlog read at once must not burst); the host's timer,
     * armed for pollTimeout() after every event, fires it. */
    if ((op & 15) >= 2 && (op & 15) <= 4) fire_timers();
    check_instances();
  }
  return 0;
}
