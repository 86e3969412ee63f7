/*
 * vigil_shim: generic syscalls for the vigil host over integer file descriptors (the Deno ops
 * model). Nothing here knows VRRP, ARP, netlink or vigil's process layout: the caller builds
 * sockaddrs, option values, frames and a spawn's file actions as bytes and parses what comes
 * back. One file a concern: socket.c (sockets, send and receive), poll.c (readiness through
 * libuv, timerfd timers), process.c (spawn, pidfds, pipes, scheduling), memory.c (locking,
 * trimming, madvise), bpf.c (maps and programs for socket filters); shim.c holds the helpers
 * below, the constants and the module's init.
 */
#ifndef VIGIL_SHIM_H
#define VIGIL_SHIM_H

#define _GNU_SOURCE
#define NAPI_VERSION 9
#include <node_api.h>

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHECK(call)                                                              \
	do {                                                                     \
		if ((call) != napi_ok)                                           \
			return NULL;                                             \
	} while (0)

/* errno -> a JS Error with { code: 'EPERM', errno, syscall }; returns NULL for `return`. */
napi_value throw_errno(napi_env env, const char *syscall, int err);
napi_value throw_range(napi_env env, const char *what);
napi_value int_result(napi_env env, int v);

/*
 * The one argument prologue: the op's arguments by a format, one letter each, into the
 * pointers that follow. 0, or -1 with a TypeError / RangeError pending (missing arguments,
 * wrong types). Letters: i int32_t*, l int64_t*, d double*, b any TypedArray (uint8_t **,
 * size_t *bytes), s an optional sockaddr (the same; null or undefined give NULL, 0), v the raw
 * napi_value*.
 */
int args(napi_env env, napi_callback_info info, const char *fmt, ...);

/* A syscall's return: < 0 throws errno's error (and gives NULL), else undefined / the int. */
static inline napi_value sys_void(napi_env env, long rc, const char *syscall)
{
	return rc < 0 ? throw_errno(env, syscall, errno) : NULL;
}
static inline napi_value sys_int(napi_env env, long rc, const char *syscall)
{
	return rc < 0 ? throw_errno(env, syscall, errno) : int_result(env, (int)rc);
}
/* The same, with "would block" (EAGAIN) as -1: a drained fd costs no Error object. */
static inline napi_value sys_nonblock(napi_env env, long rc, const char *syscall)
{
	if (rc < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return int_result(env, -1);
	return sys_int(env, rc, syscall);
}

struct op {
	const char *name;
	napi_callback fn;
};
#define OP(js, fn) { js, fn }

/* Each concern's ops, registered by shim.c. */
extern const struct op socket_ops[], poll_ops[], process_ops[], memory_ops[], bpf_ops[];
extern const size_t socket_ops_n, poll_ops_n, process_ops_n, memory_ops_n, bpf_ops_n;

/* poll.c: the per-instance table of watches (set up at init), and a watch's stop before close. */
int poll_state_init(napi_env env);
void poll_stop_fd(napi_env env, int fd);

#endif
