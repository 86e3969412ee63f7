// bench/floor.ts's reference: how late a SCHED_FIFO 50 thread with locked memory wakes from
// clock_nanosleep to absolute 10 ms deadlines. Prints percentiles of the lateness in ms.
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1000;
  if (n < 10) n = 10;
  /* argv[2]: the priority (default 50, the engine's; checks.ts runs it beside the engine at 49) */
  struct sched_param sp = {.sched_priority = argc > 2 ? atoi(argv[2]) : 50};
  if (sched_setscheduler(0, SCHED_FIFO, &sp) != 0) printf("sched: not permitted\n");
  mlockall(MCL_CURRENT | MCL_FUTURE);
  double *late = malloc(n * sizeof(double));
  struct timespec t, now;
  clock_gettime(CLOCK_MONOTONIC, &t);
  for (int i = 0; i < n; i++) {
    t.tv_nsec += 10000000;
    if (t.tv_nsec >= 1000000000) { t.tv_nsec -= 1000000000; t.tv_sec++; }
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL);
    clock_gettime(CLOCK_MONOTONIC, &now);
    late[i] = (now.tv_sec - t.tv_sec) * 1e3 + (now.tv_nsec - t.tv_nsec) / 1e6;
  }
  qsort(late, n, sizeof(double), cmp);
  printf("n=%d p50=%.3f p99=%.3f p99.9=%.3f max=%.3f ms\n", n, late[n / 2], late[(int)(n * 0.99)], late[(int)(n * 0.999)], late[n - 1]);
  return 0;
}
