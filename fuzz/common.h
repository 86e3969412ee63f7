/* Shared by the fuzz targets: one wasm2c instance of core.wasm, the trap handler, and a
 * snapshot of the freshly instantiated module so every input starts from the same state
 * (a crash found in a long run then reproduces from its file alone). */
#ifndef VIGIL_FUZZ_COMMON_H
#define VIGIL_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "trap.h"

static Z_core_instance_t core;
static Z_core_instance_t core_snapshot;   /* globals as instantiated */
static uint8_t *mem_snapshot;              /* linear memory as instantiated */
static uint32_t mem_dirty_top;             /* bytes of memory that can differ from the snapshot */

void vigil_fuzz_trap(wasm_rt_trap_t code) {
  fprintf(stderr, "vigil-fuzz: wasm trap %d: %s\n", (int)code, wasm_rt_strerror(code));
  abort();
}

#define FUZZ_CHECK(cond, ...)                                                   \
  do {                                                                          \
    if (!(cond)) {                                                              \
      fprintf(stderr, "vigil-fuzz: invariant failed at %s:%d: %s\n  ", __FILE__, \
              __LINE__, #cond);                                                 \
      fprintf(stderr, __VA_ARGS__);                                             \
      fputc('\n', stderr);                                                      \
      abort();                                                                  \
    }                                                                           \
  } while (0)

static inline uint8_t *core_mem(void) { return Z_coreZ_memory(&core)->data; }
static inline uint32_t core_mem_size(void) { return (uint32_t)Z_coreZ_memory(&core)->size; }
static inline uint32_t core_global(u32 *g) { return *g; }

static void core_boot(void) {
  wasm_rt_init();
  Z_core_init_module();
  Z_core_instantiate(&core);
  uint32_t size = core_mem_size();
  /* The module declares 32 fixed pages; the harness relies on memory never moving. */
  FUZZ_CHECK(Z_coreZ_memory(&core)->pages == Z_coreZ_memory(&core)->max_pages,
             "memory is %u pages, max %u: expected a fixed-size memory",
             (unsigned)Z_coreZ_memory(&core)->pages, (unsigned)Z_coreZ_memory(&core)->max_pages);
  mem_snapshot = malloc(size);
  memcpy(mem_snapshot, core_mem(), size);
  core_snapshot = core;
  /* Everything the start function wrote ends at the last non-zero byte; the core never
   * allocates after start (layout.ts), so events only write below that point, into the static
   * buffers and the preallocated instances. Restoring a little more than that is enough; a
   * full restore happens anyway if the bump allocator ever moves (see core_reset). */
  uint32_t top = size;
  while (top > 0 && mem_snapshot[top - 1] == 0) top--;
  top = (top + 65535u) & ~65535u;
  mem_dirty_top = top < size ? top : size;
}

/* Back to the state right after instantiation. */
static inline void core_reset(void) {
  /* The mutable globals include the stub runtime's bump pointer: if any of them ended above
   * the restored range (something allocated), restore the whole memory this time. */
  int full = 0;
  const uint32_t *g = (const uint32_t *)&core;
  const uint32_t *s = (const uint32_t *)&core_snapshot;
  for (size_t i = 0; i < offsetof(Z_core_instance_t, w2c_memory) / sizeof(uint32_t); i++) {
    if (g[i] != s[i] && g[i] > s[i] && g[i] >= mem_dirty_top && g[i] <= core_mem_size()) full = 1;
  }
  wasm_rt_memory_t m = core.w2c_memory;
  core = core_snapshot;
  core.w2c_memory = m;
  memcpy(core_mem(), mem_snapshot, full ? core_mem_size() : mem_dirty_top);
}

#endif
