/* Force-included into wasm-rt-impl.c: a wasm trap becomes an abort() so libFuzzer (and ASan)
 * report it as a crash with a stack trace, instead of longjmp-ing to a setjmp nobody set. */
#ifndef VIGIL_FUZZ_TRAP_H
#define VIGIL_FUZZ_TRAP_H
#include "wasm-rt.h"
void vigil_fuzz_trap(wasm_rt_trap_t code) __attribute__((noreturn));
#endif
