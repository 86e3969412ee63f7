// Test only: preloaded (QEMU_SET_ENV=LD_PRELOAD=...) into the arm64 vigil that
// test/dist/arm64.test.ts runs under qemu-user, for the socket options that Debian 12's
// qemu-aarch64-static (7.2) does not translate, though the kernel below it has them. Each gap
// is counted in a line on stderr, so the test can say which ones the agent met.
//   SO_TIMESTAMPNS                        ENOPROTOOPT: no receive stamps (a cold start does not
//                                         need them; a warm start's handover does)
//   IP_MULTICAST_IF (ip_mreqn),           ENOPROTOOPT: skipped; SO_BINDTODEVICE already pins the
//   IPV6_MULTICAST_IF                     socket to its interface
//   IP_MULTICAST_ALL, IPV6_MULTICAST_ALL  ENOPROTOOPT: skipped; one interface per namespace here
//   IP_ADD/DROP_MEMBERSHIP (ip_mreqn)     qemu reads imr_ifindex as a 64-bit long: given 12
//                                         bytes it passes garbage (ENODEV); given 16 (the
//                                         struct, zero-padded) it passes the right index
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#ifndef IP_MULTICAST_ALL
#define IP_MULTICAST_ALL 49
#endif
#ifndef IPV6_MULTICAST_ALL
#define IPV6_MULTICAST_ALL 29
#endif

typedef int (*setsockopt_fn)(int, int, int, const void *, socklen_t);

static int skipped(const char *what) {
  fprintf(stderr, "qemu-gaps: %s skipped (qemu-user does not translate it)\n", what);
  return 0;
}

int setsockopt(int fd, int level, int name, const void *val, socklen_t len) {
  static setsockopt_fn real;
  if (!real) real = (setsockopt_fn)dlsym(RTLD_NEXT, "setsockopt");
  if (level == IPPROTO_IP && (name == IP_ADD_MEMBERSHIP || name == IP_DROP_MEMBERSHIP) && len == sizeof(struct ip_mreqn)) {
    unsigned char padded[16] = {0};
    memcpy(padded, val, len);
    fprintf(stderr, "qemu-gaps: IP_%s_MEMBERSHIP given as 16 bytes\n", name == IP_ADD_MEMBERSHIP ? "ADD" : "DROP");
    return real(fd, level, name, padded, sizeof padded);
  }
  int r = real(fd, level, name, val, len);
  if (r == 0 || errno != ENOPROTOOPT) return r;
  if (level == SOL_SOCKET && name == SO_TIMESTAMPNS) return skipped("SO_TIMESTAMPNS");
  if (level == IPPROTO_IP && name == IP_MULTICAST_IF) return skipped("IP_MULTICAST_IF");
  if (level == IPPROTO_IP && name == IP_MULTICAST_ALL) return skipped("IP_MULTICAST_ALL");
  if (level == IPPROTO_IPV6 && name == IPV6_MULTICAST_IF) return skipped("IPV6_MULTICAST_IF");
  if (level == IPPROTO_IPV6 && name == IPV6_MULTICAST_ALL) return skipped("IPV6_MULTICAST_ALL");
  errno = ENOPROTOOPT;
  return r;
}
