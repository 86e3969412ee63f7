/*
 * Memory: locking (the engine's code held against eviction), malloc's free pages back, and
 * madvise for dropping file pages (which ranges: host/net/memory.ts reads /proc/self/pagemap).
 */
#include "shim.h"

#include <malloc.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static napi_value op_mlockall(napi_env env, napi_callback_info info)
{
	int32_t flags;
	if (args(env, info, "i", &flags))
		return NULL;
	return sys_void(env, mlockall(flags), "mlockall");
}

/* A whole-page range of this process's address space, or a RangeError. */
static int page_range(napi_env env, int64_t addr, int64_t len, bool aligned)
{
	long psz = sysconf(_SC_PAGESIZE);
	if (addr < 0 || len <= 0 || (aligned && (addr % psz || len % psz))) {
		throw_range(env, aligned ? "address and length must be whole pages" : "address and length must be positive");
		return -1;
	}
	return 0;
}

/*
 * mlock2(addr, len, flags): the engine's code and read-only data held in memory once its start
 * is done (host/agent/trim.ts), with MLOCK_ONFAULT: what is resident stays, what comes back by a
 * fault is held, and nothing is read in (the node binary's text whole is ~100 MB). Not
 * mlockall: V8 gives heap pages back with madvise(MADV_DONTNEED), which fails on locked memory,
 * and V8 aborts on that failure (CHECK_EQ in OS::DiscardSystemPages).
 */
static napi_value op_mlock2(napi_env env, napi_callback_info info)
{
	int64_t addr, len;
	int32_t flags;
	if (args(env, info, "lli", &addr, &len, &flags) || page_range(env, addr, len, false))
		return NULL;
	return sys_void(env, syscall(SYS_mlock2, (uintptr_t)addr, (size_t)len, (unsigned)flags), "mlock2");
}

static napi_value op_munlockall(napi_env env, napi_callback_info info)
{
	(void)info;
	return sys_void(env, munlockall(), "munlockall");
}

/* mallocTrim(): malloc_trim(0), the heap's free pages back to the kernel; 1 if any went. */
static napi_value op_malloc_trim(napi_env env, napi_callback_info info)
{
	(void)info;
	return int_result(env, malloc_trim(0));
}

/* madvise(addr, len, advice) over whole pages (MADV_DONTNEED: host/net/memory.ts). */
static napi_value op_madvise(napi_env env, napi_callback_info info)
{
	int64_t addr, len;
	int32_t advice;
	if (args(env, info, "lli", &addr, &len, &advice) || page_range(env, addr, len, true))
		return NULL;
	return sys_void(env, madvise((void *)(uintptr_t)addr, (size_t)len, advice), "madvise");
}

/* Lets a test prove the sanitizer build is the one loaded (and that it catches a bug). */
static napi_value op_asan(napi_env env, napi_callback_info info)
{
	int32_t mode = 0;
	size_t argc = 1;
	napi_value argv[1];
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	if (argc > 0)
		napi_get_value_int32(env, argv[0], &mode);
#if defined(__SANITIZE_ADDRESS__)
	if (mode == 1) { /* a deliberate heap overflow: ASan must abort the process here */
		volatile char *p = malloc(8);
		p[8] = 1;
		free((void *)p);
	}
	return int_result(env, 1);
#else
	return int_result(env, 0);
#endif
}

const struct op memory_ops[] = {
	OP("mlockall", op_mlockall), OP("mlock2", op_mlock2), OP("munlockall", op_munlockall),
	OP("mallocTrim", op_malloc_trim), OP("madvise", op_madvise), OP("asan", op_asan),
};
const size_t memory_ops_n = sizeof(memory_ops) / sizeof(memory_ops[0]);
