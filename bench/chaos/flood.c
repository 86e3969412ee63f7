/* A VRRP flood for bench/chaos: `flood PPS SECONDS` sends, from the namespace it runs in, IPv4
 * VRRP packets to 224.0.0.18 at PPS for SECONDS, round-robin of four kinds an engine must drop:
 * a bad checksum, a spoofed higher priority from off the link (TTL 64), an unknown VRID, and a
 * malformed one (version 1, or cut short). Sources are random in 198.51.100.0/24. Prints what
 * it sent per kind as JSON. Raw socket: needs CAP_NET_RAW. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint16_t csum(const uint8_t *p, size_t n, uint32_t sum) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += (uint32_t)(p[i] << 8 | p[i + 1]);
  if (n & 1) sum += (uint32_t)(p[n - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: flood PPS SECONDS\n"); return 2; }
  double pps = atof(argv[1]), secs = atof(argv[2]);
  int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
  if (fd < 0) { perror("socket"); return 1; }
  struct sockaddr_in dst = { .sin_family = AF_INET };
  inet_pton(AF_INET, "224.0.0.18", &dst.sin_addr);
  unsigned long sent[4] = {0}, failed = 0;
  uint8_t pkt[32];
  double start = now(), next = start;
  unsigned seed = 1;
  for (unsigned long i = 0;; i++) {
    double t = now();
    if (t - start >= secs) break;
    if (t < next) { if (next - t > 0.0002) { struct timespec s = {0, 100000}; nanosleep(&s, 0); } continue; }
    next += 1.0 / pps;
    int kind = (int)(i & 3);
    size_t vlen = 12, len = 20 + vlen;
    memset(pkt, 0, sizeof pkt);
    uint8_t *ip = pkt, *v = pkt + 20;
    ip[0] = 0x45; ip[8] = kind == 1 ? 64 : 255; ip[9] = 112;
    uint32_t src = htonl(0xc6336400u | (rand_r(&seed) & 0xff));  /* 198.51.100.x */
    memcpy(ip + 12, &src, 4);
    memcpy(ip + 16, &dst.sin_addr, 4);
    v[0] = 0x31; v[1] = kind == 2 ? 77 : 51; v[2] = kind == 1 ? 254 : 200; v[3] = 1;
    v[4] = 0; v[5] = 1;                               /* 10 ms */
    v[8] = 192; v[9] = 0; v[10] = 2; v[11] = 100;
    if (kind == 3 && (i & 4)) v[0] = 0x11;            /* version 1 */
    if (kind == 3 && !(i & 4)) { vlen = 6; len = 26; } /* cut short */
    /* v3 checksum over the pseudo-header (RFC 5798 §5.2.8) */
    uint8_t ph[12 + 32];
    memcpy(ph, ip + 12, 8); ph[8] = 0; ph[9] = 112; ph[10] = 0; ph[11] = (uint8_t)vlen;
    memcpy(ph + 12, v, vlen);
    uint16_t c = csum(ph, 12 + vlen, 0);
    if (kind == 0) c ^= 0x5a5a;
    v[6] = (uint8_t)(c >> 8); v[7] = (uint8_t)c;
    ip[2] = (uint8_t)(len >> 8); ip[3] = (uint8_t)len;
    if (sendto(fd, pkt, len, 0, (struct sockaddr *)&dst, sizeof dst) < 0) failed++;
    else sent[kind]++;
  }
  printf("{\"checksum\":%lu,\"ttl\":%lu,\"vrid\":%lu,\"malformed\":%lu,\"failed\":%lu,\"seconds\":%.3f}\n",
         sent[0], sent[1], sent[2], sent[3], failed, now() - start);
  return 0;
}
