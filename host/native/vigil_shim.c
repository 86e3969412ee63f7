/*
 * vigil_shim: generic socket and scheduling syscalls for the vigil host, over integer
 * file descriptors (the Deno ops model). Nothing here knows VRRP, ARP or netlink: the
 * caller builds sockaddrs, option values and frames as bytes, and parses what comes back.
 *
 * Hot-path contract: sendTo and recvMsg take caller-owned typed arrays (a view over the
 * core's WebAssembly memory in production), return small integers and allocate nothing.
 * "Would block" is a return value (-1), not an exception, so a drained socket costs no
 * Error object. Readiness comes from libuv (uv_poll on the Node loop): no thread per socket.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 9
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>

#define CHECK(call)                                                              \
	do {                                                                     \
		if ((call) != napi_ok)                                           \
			return NULL;                                             \
	} while (0)

/* ---------- errors: errno -> { code: 'EPERM', errno, syscall } ---------- */

static napi_value throw_errno(napi_env env, const char *syscall, int err)
{
	const char *name = strerrorname_np(err);
	char msg[160];
	napi_value code, message, error, num, sys;

	snprintf(msg, sizeof(msg), "%s: %s", syscall, strerror(err));
	napi_create_string_utf8(env, name ? name : "EUNKNOWN", NAPI_AUTO_LENGTH, &code);
	napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
	napi_create_error(env, code, message, &error);
	napi_create_int32(env, err, &num);
	napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sys);
	napi_set_named_property(env, error, "errno", num);
	napi_set_named_property(env, error, "syscall", sys);
	napi_throw(env, error);
	return NULL;
}

static napi_value throw_range(napi_env env, const char *what)
{
	napi_throw_range_error(env, "ERR_OUT_OF_RANGE", what);
	return NULL;
}

static napi_value int_result(napi_env env, int v)
{
	napi_value r;
	napi_create_int32(env, v, &r);
	return r;
}

/* ---------- argument helpers ---------- */

static int arg_i32(napi_env env, napi_value v, int32_t *out)
{
	if (napi_get_value_int32(env, v, out) != napi_ok) {
		napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected an integer");
		return -1;
	}
	return 0;
}

/* Any TypedArray (or Buffer): its bytes, whatever the element type. */
static int arg_bytes(napi_env env, napi_value v, uint8_t **data, size_t *len)
{
	napi_typedarray_type type;
	size_t n, off;
	napi_value ab;
	void *p;
	bool ok = false;

	napi_is_typedarray(env, v, &ok);
	if (!ok || napi_get_typedarray_info(env, v, &type, &n, &p, &ab, &off) != napi_ok) {
		napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected a TypedArray");
		return -1;
	}
	static const size_t width[] = { 1, 1, 1, 2, 2, 4, 4, 4, 8, 8, 8, 2 };
	*data = p;
	*len = n * (type < sizeof(width) / sizeof(width[0]) ? width[type] : 1);
	return 0;
}

/* Optional sockaddr: null/undefined means "none". */
static int arg_sockaddr(napi_env env, napi_value v, uint8_t **sa, size_t *salen)
{
	napi_valuetype t;
	napi_typeof(env, v, &t);
	if (t == napi_null || t == napi_undefined) {
		*sa = NULL;
		*salen = 0;
		return 0;
	}
	if (arg_bytes(env, v, sa, salen))
		return -1;
	if (*salen > sizeof(struct sockaddr_storage)) {
		throw_range(env, "sockaddr longer than sockaddr_storage");
		return -1;
	}
	return 0;
}

#define ARGS(n)                                                                  \
	size_t argc = (n);                                                       \
	napi_value argv[(n) > 0 ? (n) : 1];                                      \
	CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));             \
	if (argc < (n)) {                                                        \
		napi_throw_type_error(env, "ERR_MISSING_ARGS", "missing arguments"); \
		return NULL;                                                     \
	}

/* ---------- sockets ---------- */

static napi_value op_socket(napi_env env, napi_callback_info info)
{
	ARGS(3);
	int32_t domain, type, proto;
	if (arg_i32(env, argv[0], &domain) || arg_i32(env, argv[1], &type) ||
	    arg_i32(env, argv[2], &proto))
		return NULL;
	/* Non-blocking always: readiness comes from uv_poll, never from a blocked thread. */
	int fd = socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
	return fd < 0 ? throw_errno(env, "socket", errno) : int_result(env, fd);
}

static napi_value op_setsockopt_int(napi_env env, napi_callback_info info)
{
	ARGS(4);
	int32_t fd, level, name, value;
	if (arg_i32(env, argv[0], &fd) || arg_i32(env, argv[1], &level) ||
	    arg_i32(env, argv[2], &name) || arg_i32(env, argv[3], &value))
		return NULL;
	if (setsockopt(fd, level, name, &value, sizeof(value)) < 0)
		return throw_errno(env, "setsockopt", errno);
	return NULL;
}

static napi_value op_setsockopt_buf(napi_env env, napi_callback_info info)
{
	ARGS(4);
	int32_t fd, level, name;
	uint8_t *buf;
	size_t len;
	if (arg_i32(env, argv[0], &fd) || arg_i32(env, argv[1], &level) ||
	    arg_i32(env, argv[2], &name) || arg_bytes(env, argv[3], &buf, &len))
		return NULL;
	if (setsockopt(fd, level, name, buf, (socklen_t)len) < 0)
		return throw_errno(env, "setsockopt", errno);
	return NULL;
}

static napi_value op_bind(napi_env env, napi_callback_info info)
{
	ARGS(2);
	int32_t fd;
	uint8_t *sa;
	size_t salen;
	if (arg_i32(env, argv[0], &fd) || arg_sockaddr(env, argv[1], &sa, &salen))
		return NULL;
	if (!sa)
		return throw_range(env, "bind needs a sockaddr");
	if (bind(fd, (struct sockaddr *)sa, (socklen_t)salen) < 0)
		return throw_errno(env, "bind", errno);
	return NULL;
}

/*
 * listen(fd, backlog): for the status server's socket, made and bound here and handed to Node
 * as { fd }. Node's own listen(port, host) validates the host with its IPv6 regular expression,
 * whose first compile takes ~13 ms here, on the path to the first advert.
 */
static napi_value op_listen(napi_env env, napi_callback_info info)
{
	ARGS(2);
	int32_t fd, backlog;
	if (arg_i32(env, argv[0], &fd) || arg_i32(env, argv[1], &backlog))
		return NULL;
	if (listen(fd, backlog) < 0)
		return throw_errno(env, "listen", errno);
	return NULL;
}

/*
 * attachFilter(fd, insns): a classic BPF program (8-byte sock_filter records) built by the
 * caller. A send-only raw socket attaches "ret #0" so the kernel never queues to it.
 */
static napi_value op_attach_filter(napi_env env, napi_callback_info info)
{
	ARGS(2);
	int32_t fd;
	uint8_t *insns;
	size_t len;
	if (arg_i32(env, argv[0], &fd) || arg_bytes(env, argv[1], &insns, &len))
		return NULL;
	if (len == 0 || len % sizeof(struct sock_filter) || len / sizeof(struct sock_filter) > BPF_MAXINSNS)
		return throw_range(env, "a BPF program is 1..4096 8-byte instructions");
	struct sock_fprog prog = { .len = (unsigned short)(len / sizeof(struct sock_filter)),
				   .filter = (struct sock_filter *)insns };
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0)
		return throw_errno(env, "setsockopt", errno);
	return NULL;
}

/* getsockname(fd, out) -> length written; netlink uses it to learn its port id. */
static napi_value op_getsockname(napi_env env, napi_callback_info info)
{
	ARGS(2);
	int32_t fd;
	uint8_t *out;
	size_t outlen;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (arg_i32(env, argv[0], &fd) || arg_bytes(env, argv[1], &out, &outlen))
		return NULL;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return throw_errno(env, "getsockname", errno);
	if (len > outlen)
		return throw_range(env, "sockaddr buffer too small");
	memcpy(out, &ss, len);
	return int_result(env, (int)len);
}

/* sendTo(fd, buf, off, len, sockaddr|null) -> bytes sent, or -1 if it would block. */
static napi_value op_send_to(napi_env env, napi_callback_info info)
{
	ARGS(5);
	int32_t fd, off, len;
	uint8_t *buf, *sa;
	size_t buflen, salen;
	if (arg_i32(env, argv[0], &fd) || arg_bytes(env, argv[1], &buf, &buflen) ||
	    arg_i32(env, argv[2], &off) || arg_i32(env, argv[3], &len) ||
	    arg_sockaddr(env, argv[4], &sa, &salen))
		return NULL;
	if (off < 0 || len < 0 || (size_t)off + (size_t)len > buflen)
		return throw_range(env, "off/len outside the buffer");
	ssize_t n = sendto(fd, buf + off, (size_t)len, MSG_NOSIGNAL, (struct sockaddr *)sa,
			   (socklen_t)salen);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return int_result(env, -1);
		return throw_errno(env, "sendto", errno);
	}
	return int_result(env, (int)n);
}

/*
 * recvMsg(fd, buf, off, len, src, meta) -> datagram length (may exceed len: check
 * MSG_TRUNC in meta[3]), or -1 if nothing is queued.
 * src receives the sender's sockaddr. meta is an Int32Array of at least 8:
 *   [0] sockaddr length  [1] TTL / hop limit (-1 absent)  [2] ifindex from pktinfo (-1 absent)
 *   [3] msg_flags        [4..7] destination address from pktinfo (4 or 16 bytes)
 *   [8] (only if meta has a 9th slot) the datagram's age in microseconds: CLOCK_REALTIME
 *       now minus the kernel's receive stamp (SO_TIMESTAMPNS), >= 0; -1 absent
 *   [9], [10] (only if meta has 11 slots) the stamp itself, seconds (low 32 bits) and
 *       nanoseconds; 0, 0 absent. Every socket given a copy of a datagram sees the same stamp:
 *       an engine taking over another's sockets tells by it which datagrams that one has read.
 * Only the ancillary data VRRP's receive checks need is decoded here (RFC 5798 5.2.3,
 * 7.1: TTL/hop limit 255, destination), and the arrival time that Master_Down_Interval is
 * measured from (a packet can wait in the queue while the loop is busy); the rest is left
 * to the kernel. The age, not the stamp, goes back: the stamp is CLOCK_REALTIME and the
 * caller's clock is monotonic, so the difference is taken here, on the stamp's clock.
 */
static napi_value op_recv_msg(napi_env env, napi_callback_info info)
{
	ARGS(6);
	int32_t fd, off, len;
	uint8_t *buf, *src, *metab;
	size_t buflen, srclen, metalen;
	if (arg_i32(env, argv[0], &fd) || arg_bytes(env, argv[1], &buf, &buflen) ||
	    arg_i32(env, argv[2], &off) || arg_i32(env, argv[3], &len) ||
	    arg_bytes(env, argv[4], &src, &srclen) || arg_bytes(env, argv[5], &metab, &metalen))
		return NULL;
	if (off < 0 || len < 0 || (size_t)off + (size_t)len > buflen)
		return throw_range(env, "off/len outside the buffer");
	if (metalen < 8 * sizeof(int32_t) || ((uintptr_t)metab & 3))
		return throw_range(env, "meta must be an Int32Array of at least 8");

	int32_t *meta = (int32_t *)metab;
	union {
		struct cmsghdr align;
		uint8_t bytes[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(struct in6_pktinfo)) +
			      CMSG_SPACE(sizeof(struct in_pktinfo)) +
			      CMSG_SPACE(sizeof(struct timespec)) + 64];
	} control;
	struct iovec iov = { .iov_base = buf + off, .iov_len = (size_t)len };
	struct msghdr msg = {
		.msg_name = src,
		.msg_namelen = (socklen_t)srclen,
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.bytes,
		.msg_controllen = sizeof(control.bytes),
	};
	/* MSG_TRUNC: report a datagram's real length, so a short buffer is detectable. */
	ssize_t n = recvmsg(fd, &msg, MSG_TRUNC);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return int_result(env, -1);
		return throw_errno(env, "recvmsg", errno);
	}
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	int has_age = metalen >= 9 * sizeof(int32_t);
	int has_stamp = metalen >= 11 * sizeof(int32_t);
	if (has_age)
		meta[8] = -1;
	if (has_stamp)
		meta[9] = meta[10] = 0;
	meta[0] = (int32_t)msg.msg_namelen;
	meta[1] = -1;
	meta[2] = -1;
	meta[3] = msg.msg_flags;
	memset(&meta[4], 0, 16);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
		    (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT)) {
			int v;
			memcpy(&v, CMSG_DATA(c), sizeof(v));
			meta[1] = v;
		} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			meta[2] = pi.ipi_ifindex;
			memcpy(&meta[4], &pi.ipi_addr, 4);
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			meta[2] = (int32_t)pi.ipi6_ifindex;
			memcpy(&meta[4], &pi.ipi6_addr, 16);
		} else if (has_age && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;
			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			int64_t us = ((int64_t)now.tv_sec - ts.tv_sec) * 1000000 +
				     ((int64_t)now.tv_nsec - ts.tv_nsec) / 1000;
			/* a clock step between stamp and read can make it negative or huge */
			meta[8] = us < 0 ? 0 : us > INT32_MAX ? INT32_MAX : (int32_t)us;
			if (has_stamp) {
				meta[9] = (int32_t)(uint32_t)ts.tv_sec;
				meta[10] = (int32_t)ts.tv_nsec;
			}
		}
	}
	return int_result(env, (int)n);
}

/* ---------- readiness through libuv ---------- */

struct watch {
	uv_poll_t handle;
	napi_env env;
	napi_ref callback;
	napi_async_context ctx;
};

/* Per-addon-instance table, indexed by fd: one watch per fd, as uv_poll requires. */
struct state {
	struct watch **by_fd;
	int cap;
};

static struct state *get_state(napi_env env)
{
	void *s = NULL;
	napi_get_instance_data(env, &s);
	return s;
}

static void on_closed(uv_handle_t *h)
{
	free(h->data);
}

static void watch_release(struct state *st, int fd, bool teardown)
{
	struct watch *w = st->by_fd[fd];
	st->by_fd[fd] = NULL;
	uv_poll_stop(&w->handle);
	if (!teardown) { /* at env teardown V8 owns (and frees) these already */
		napi_delete_reference(w->env, w->callback);
		napi_async_destroy(w->env, w->ctx);
	}
	/* The handle lives until libuv's close callback; the fd may be closed right after. */
	uv_close((uv_handle_t *)&w->handle, on_closed);
}

static void on_ready(uv_poll_t *h, int status, int events)
{
	struct watch *w = h->data;
	napi_env env = w->env;
	napi_handle_scope scope;
	napi_value cb, recv, argv[2], result;

	napi_open_handle_scope(env, &scope);
	if (napi_get_reference_value(env, w->callback, &cb) == napi_ok && cb) {
		napi_get_global(env, &recv); /* make_callback wants an object receiver */
		napi_create_int32(env, status, &argv[0]);
		napi_create_int32(env, events, &argv[1]);
		/* make_callback runs microtasks and async hooks as any libuv callback would. */
		if (napi_make_callback(env, w->ctx, recv, cb, 2, argv, &result) != napi_ok) {
			napi_value exc;
			if (napi_get_and_clear_last_exception(env, &exc) == napi_ok && exc)
				napi_fatal_exception(env, exc);
		}
	}
	napi_close_handle_scope(env, scope);
}

/* pollStart(fd, events, callback(status, events)): events is UV_READABLE and/or UV_WRITABLE. */
static napi_value op_poll_start(napi_env env, napi_callback_info info)
{
	ARGS(3);
	int32_t fd, events;
	struct state *st = get_state(env);
	uv_loop_t *loop;
	napi_value name;
	if (arg_i32(env, argv[0], &fd) || arg_i32(env, argv[1], &events))
		return NULL;
	if (fd < 0)
		return throw_errno(env, "poll", EBADF);
	if (fd >= st->cap) {
		int cap = fd + 64;
		struct watch **t = realloc(st->by_fd, (size_t)cap * sizeof(*t));
		if (!t)
			return throw_errno(env, "poll", ENOMEM);
		memset(t + st->cap, 0, (size_t)(cap - st->cap) * sizeof(*t));
		st->by_fd = t;
		st->cap = cap;
	}
	if (st->by_fd[fd]) /* re-arming replaces the callback and the event mask */
		watch_release(st, fd, false);

	struct watch *w = calloc(1, sizeof(*w));
	if (!w)
		return throw_errno(env, "poll", ENOMEM);
	CHECK(napi_get_uv_event_loop(env, &loop));
	int rc = uv_poll_init(loop, &w->handle, fd);
	if (rc < 0) {
		free(w);
		return throw_errno(env, "uv_poll_init", -rc);
	}
	w->handle.data = w;
	w->env = env;
	napi_create_reference(env, argv[2], 1, &w->callback);
	napi_create_string_utf8(env, "vigil.poll", NAPI_AUTO_LENGTH, &name);
	napi_async_init(env, NULL, name, &w->ctx);
	st->by_fd[fd] = w;
	rc = uv_poll_start(&w->handle, events, on_ready);
	if (rc < 0) {
		watch_release(st, fd, false);
		return throw_errno(env, "uv_poll_start", -rc);
	}
	return NULL;
}

static void poll_stop_fd(struct state *st, int fd)
{
	if (fd >= 0 && fd < st->cap && st->by_fd[fd])
		watch_release(st, fd, false);
}

static napi_value op_poll_stop(napi_env env, napi_callback_info info)
{
	ARGS(1);
	int32_t fd;
	if (arg_i32(env, argv[0], &fd))
		return NULL;
	poll_stop_fd(get_state(env), fd);
	return NULL;
}

static napi_value op_close(napi_env env, napi_callback_info info)
{
	ARGS(1);
	int32_t fd;
	if (arg_i32(env, argv[0], &fd))
		return NULL;
	poll_stop_fd(get_state(env), fd);
	if (close(fd) < 0)
		return throw_errno(env, "close", errno);
	return NULL;
}

static void state_free(napi_env env, void *data, void *hint)
{
	struct state *st = data;
	(void)env;
	(void)hint;
	for (int fd = 0; fd < st->cap; fd++)
		if (st->by_fd[fd]) {
			watch_release(st, fd, true);
			close(fd);
		}
	free(st->by_fd);
	free(st);
}

/* ---------- timing: one-shot timers with microsecond resolution ---------- */

/*
 * timerCreate() -> fd: a CLOCK_MONOTONIC timerfd whose readiness comes through pollStart like
 * a socket's. libuv's own timers wait in whole milliseconds, so a 10 ms advert would fire up
 * to 1 ms early or late; this one fires when asked, once per deadline.
 */
static napi_value op_timer_create(napi_env env, napi_callback_info info)
{
	napi_value v;
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	(void)info;
	if (fd < 0)
		return throw_errno(env, "timerfd_create", errno);
	CHECK(napi_create_int32(env, fd, &v));
	return v;
}

/*
 * timerSet(fd, delayUs): fire once after delayUs microseconds (anything below 1 us: at once);
 * Infinity or NaN disarms. A pending expiry is consumed first, so the fd is readable again only
 * for the new deadline (uv_poll is level-triggered).
 */
static napi_value op_timer_set(napi_env env, napi_callback_info info)
{
	ARGS(2);
	int32_t fd;
	double us;
	struct itimerspec its = { 0 };
	if (arg_i32(env, argv[0], &fd) || napi_get_value_double(env, argv[1], &us) != napi_ok)
		return throw_range(env, "timerSet(fd, delayUs)");
	/*
	 * No read(2) of the expirations first: timerfd_settime() zeroes them (timerfd_setup: ticks =
	 * 0), so a fired timer is no longer readable once re-armed or disarmed. A read was one
	 * syscall more per advert.
	 */
	if (isfinite(us)) {
		long long ns = us < 1 ? 1000 : (long long)(us * 1000.0);
		its.it_value.tv_sec = ns / 1000000000LL;
		its.it_value.tv_nsec = ns % 1000000000LL;
	}
	if (timerfd_settime(fd, 0, &its, NULL) < 0)
		return throw_errno(env, "timerfd_settime", errno);
	return NULL;
}

/* ---------- timing: real-time priority and locked memory ---------- */

static napi_value op_sched_set_scheduler(napi_env env, napi_callback_info info)
{
	ARGS(2);
	int32_t policy, prio;
	if (arg_i32(env, argv[0], &policy) || arg_i32(env, argv[1], &prio))
		return NULL;
	struct sched_param sp = { .sched_priority = prio };
	if (sched_setscheduler(0, policy, &sp) < 0)
		return throw_errno(env, "sched_setscheduler", errno);
	return NULL;
}

static napi_value op_sched_get_scheduler(napi_env env, napi_callback_info info)
{
	(void)info;
	int p = sched_getscheduler(0);
	return p < 0 ? throw_errno(env, "sched_getscheduler", errno) : int_result(env, p);
}

static napi_value op_mlockall(napi_env env, napi_callback_info info)
{
	ARGS(1);
	int32_t flags;
	if (arg_i32(env, argv[0], &flags))
		return NULL;
	if (mlockall(flags) < 0)
		return throw_errno(env, "mlockall", errno);
	return NULL;
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
	ARGS(3);
	int64_t addr, len;
	int32_t flags;
	if (napi_get_value_int64(env, argv[0], &addr) != napi_ok || napi_get_value_int64(env, argv[1], &len) != napi_ok ||
	    arg_i32(env, argv[2], &flags))
		return throw_range(env, "address, length and flags must be numbers");
	if (addr < 0 || len <= 0)
		return throw_range(env, "address and length must be positive");
	if (syscall(SYS_mlock2, (uintptr_t)addr, (size_t)len, (unsigned)flags) < 0)
		return throw_errno(env, "mlock2", errno);
	return NULL;
}

static napi_value op_munlockall(napi_env env, napi_callback_info info)
{
	(void)info;
	if (munlockall() < 0)
		return throw_errno(env, "munlockall", errno);
	return NULL;
}

/* ---------- processes: a child that libuv did not spawn ---------- */

/*
 * bin/vigil starts the engine beside `vigil run` (the two Node starts run in parallel, not in
 * series), so the engine is this process's child but not one libuv knows: libuv reaps only the
 * pids it spawned. A pidfd turns the child's exit into readiness (pollStart) and reaps it.
 */
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* pidfdOpen(pid) -> fd (close-on-exec), readable once the process has exited. */
static napi_value op_pidfd_open(napi_env env, napi_callback_info info)
{
	ARGS(1);
	int32_t pid;
	if (arg_i32(env, argv[0], &pid))
		return NULL;
	int fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
	return fd < 0 ? throw_errno(env, "pidfd_open", errno) : int_result(env, fd);
}

/* pidfdWait(fd) -> null while it runs; its exit status (>= 0) or -signal once reaped. */
static napi_value op_pidfd_wait(napi_env env, napi_callback_info info)
{
	ARGS(1);
	int32_t fd;
	siginfo_t si;
	if (arg_i32(env, argv[0], &fd))
		return NULL;
	memset(&si, 0, sizeof(si));
	if (waitid((idtype_t)P_PIDFD, (id_t)fd, &si, WEXITED | WNOHANG) < 0)
		return throw_errno(env, "waitid", errno);
	if (si.si_pid == 0) {
		napi_value n;
		CHECK(napi_get_null(env, &n));
		return n;
	}
	return int_result(env, si.si_code == CLD_EXITED ? si.si_status : -si.si_status);
}

/* An array of JS strings as a NULL-terminated char *[] (malloc'ed; free_strings frees it). */
static void free_strings(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

static char **arg_strings(napi_env env, napi_value arr)
{
	bool is = false;
	uint32_t n = 0;
	if (napi_is_array(env, arr, &is) != napi_ok || !is || napi_get_array_length(env, arr, &n) != napi_ok) {
		napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected an array of strings");
		return NULL;
	}
	char **v = calloc((size_t)n + 1, sizeof(char *));
	if (!v)
		return (char **)throw_errno(env, "calloc", ENOMEM);
	for (uint32_t i = 0; i < n; i++) {
		napi_value e;
		size_t len = 0;
		if (napi_get_element(env, arr, i, &e) != napi_ok || napi_get_value_string_utf8(env, e, NULL, 0, &len) != napi_ok ||
		    !(v[i] = malloc(len + 1)) || napi_get_value_string_utf8(env, e, v[i], len + 1, &len) != napi_ok) {
			free_strings(v);
			napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected an array of strings");
			return NULL;
		}
	}
	return v;
}

/*
 * posix_spawnp(argv[0]) with the file actions `fa` and default signal dispositions and an empty
 * mask (Node ignores SIGPIPE and blocks others; libuv resets them for its children as well),
 * plus `flags` (POSIX_SPAWN_SETPGROUP: a process group of its own). The clone shares this
 * process's memory (CLONE_VM | CLONE_VFORK) until the exec: libuv forks, the engine's page
 * tables copied, 5-19 ms measured here with the main thread blocked. 0 or an errno.
 */
static int spawn_default_signals(pid_t *pid, char **av, char **ev, posix_spawn_file_actions_t *fa, short flags)
{
	posix_spawnattr_t at;
	sigset_t all, none;
	sigfillset(&all);
	sigemptyset(&none);
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, flags | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	if (flags & POSIX_SPAWN_SETPGROUP)
		posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	int rc = posix_spawnp(pid, av[0], fa, &at, av, ev);
	posix_spawnattr_destroy(&at);
	return rc;
}

/* argv and envp of a spawn op, as NULL-terminated arrays (free_strings both); 0 when an
 * exception is pending. */
static int spawn_args(napi_env env, napi_value *argv, const char *op, char ***av, char ***ev)
{
	*av = arg_strings(env, argv[0]);
	if (!*av)
		return 0;
	*ev = arg_strings(env, argv[1]);
	if (!*ev) {
		free_strings(*av);
		return 0;
	}
	if (!(*av)[0]) {
		free_strings(*av);
		free_strings(*ev);
		char msg[64];
		snprintf(msg, sizeof(msg), "%s needs argv[0]", op);
		throw_range(env, msg);
		return 0;
	}
	return 1;
}

/* An array of int32s, for a spawn op's result. */
static napi_value int_array(napi_env env, const int32_t *v, uint32_t n)
{
	napi_value out, x;
	CHECK(napi_create_array_with_length(env, n, &out));
	for (uint32_t i = 0; i < n; i++) {
		CHECK(napi_create_int32(env, v[i], &x));
		CHECK(napi_set_element(env, out, i, x));
	}
	return out;
}

/*
 * spawnHook(argv, envp) -> [pid, stderrFd]: a notify hook, started with posix_spawnp (see
 * spawn_default_signals). The hook gets its own process group (the timeout kills all it
 * started), stdin and stdout on /dev/null, and stderr on a pipe whose read end (non-blocking,
 * close-on-exec) is returned; no other descriptor. Its exit: pidfdOpen(pid).
 */
static napi_value op_spawn_hook(napi_env env, napi_callback_info info)
{
	ARGS(2);
	char **av, **ev;
	if (!spawn_args(env, argv, "spawnHook", &av, &ev))
		return NULL;
	int err_pipe[2];
	if (pipe2(err_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		int e = errno;
		free_strings(av);
		free_strings(ev);
		return throw_errno(env, "pipe2", e);
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
	/* Nothing else of the engine's: bin/vigil's pipes, inherited without close-on-exec, would
	 * otherwise reach every hook (and a hung one would hold them). glibc 2.34. */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	pid_t pid;
	int rc = spawn_default_signals(&pid, av, ev, &fa, POSIX_SPAWN_SETPGROUP);
	posix_spawn_file_actions_destroy(&fa);
	free_strings(av);
	free_strings(ev);
	close(err_pipe[1]);
	if (rc != 0) {
		close(err_pipe[0]);
		return throw_errno(env, "posix_spawn", rc);
	}
	int32_t out[2] = { pid, err_pipe[0] };
	return int_array(env, out, 2);
}

/*
 * spawnChild(argv, envp) -> [pid, stdinFd, fd3Fd]: another process of this program (the
 * engine, started by a supervisor that already runs an engine of its own: a warm start), by
 * posix_spawnp (see spawn_default_signals), the caller's main thread being on a real-time
 * schedule by then. The child's stdin is a pipe whose write end is returned (close-on-exec,
 * blocking), its fd 3 a pipe whose read end is returned (close-on-exec, non-blocking);
 * stdout and stderr are the caller's; nothing else. The caller's process group. Its exit:
 * pidfdOpen(pid).
 */
static napi_value op_spawn_child(napi_env env, napi_callback_info info)
{
	ARGS(2);
	char **av, **ev;
	if (!spawn_args(env, argv, "spawnChild", &av, &ev))
		return NULL;
	int in_pipe[2], out_pipe[2];
	if (pipe2(in_pipe, O_CLOEXEC) < 0) {
		int e = errno;
		free_strings(av);
		free_strings(ev);
		return throw_errno(env, "pipe2", e);
	}
	if (pipe2(out_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		int e = errno;
		close(in_pipe[0]);
		close(in_pipe[1]);
		free_strings(av);
		free_strings(ev);
		return throw_errno(env, "pipe2", e);
	}
	/* The child's end of fd 3 blocks, as a pipe libuv hands a child does. */
	fcntl(out_pipe[1], F_SETFL, fcntl(out_pipe[1], F_GETFL) & ~O_NONBLOCK);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in_pipe[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 3);
	/* dup2 onto itself clears close-on-exec (POSIX 2017, glibc 2.29), which Node may have
	 * set on its stdout and stderr. */
	posix_spawn_file_actions_adddup2(&fa, 1, 1);
	posix_spawn_file_actions_adddup2(&fa, 2, 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 4);
	pid_t pid;
	int rc = spawn_default_signals(&pid, av, ev, &fa, 0);
	posix_spawn_file_actions_destroy(&fa);
	free_strings(av);
	free_strings(ev);
	close(in_pipe[0]);
	close(out_pipe[1]);
	if (rc != 0) {
		close(in_pipe[1]);
		close(out_pipe[0]);
		return throw_errno(env, "posix_spawn", rc);
	}
	int32_t out[3] = { pid, in_pipe[1], out_pipe[0] };
	return int_array(env, out, 3);
}

/* read(fd, buf) -> bytes read, 0 at EOF, -1 when nothing is there yet (EAGAIN). */
static napi_value op_read(napi_env env, napi_callback_info info)
{
	ARGS(2);
	int32_t fd;
	uint8_t *buf;
	size_t len;
	if (arg_i32(env, argv[0], &fd) || arg_bytes(env, argv[1], &buf, &len))
		return NULL;
	ssize_t n = read(fd, buf, len);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return int_result(env, -1);
	return n < 0 ? throw_errno(env, "read", errno) : int_result(env, (int)n);
}

/* setCloexec(fd): an inherited fd (the engine's pipe from bin/vigil) must not reach our children. */
static napi_value op_set_cloexec(napi_env env, napi_callback_info info)
{
	ARGS(1);
	int32_t fd;
	if (arg_i32(env, argv[0], &fd))
		return NULL;
	int fl = fcntl(fd, F_GETFD);
	if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
		return throw_errno(env, "fcntl", errno);
	return NULL;
}

/*
 * isatty(fd): 1 when fd is a terminal. node:tty's isatty is the same call, but loading that
 * module loads node:net with it (~5 ms here, on the engine's way to its first advert).
 */
static napi_value op_isatty(napi_env env, napi_callback_info info)
{
	ARGS(1);
	int32_t fd;
	if (arg_i32(env, argv[0], &fd))
		return NULL;
	return int_result(env, isatty(fd));
}

/* ---------- interfaces ---------- */

static napi_value op_if_name_to_index(napi_env env, napi_callback_info info)
{
	ARGS(1);
	char name[IF_NAMESIZE + 1];
	size_t n;
	if (napi_get_value_string_utf8(env, argv[0], name, sizeof(name), &n) != napi_ok)
		return throw_range(env, "interface name must be a string");
	if (n >= IF_NAMESIZE)
		return throw_errno(env, "if_nametoindex", ENAMETOOLONG);
	unsigned idx = if_nametoindex(name);
	return idx ? int_result(env, (int)idx) : throw_errno(env, "if_nametoindex", errno);
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

/* ---------- memory ---------- */

/* mallocTrim(): malloc_trim(0), the heap's free pages back to the kernel; 1 if any went. */
static napi_value op_malloc_trim(napi_env env, napi_callback_info info)
{
	(void)info;
	return int_result(env, malloc_trim(0));
}

/*
 * dropCleanPages(addr, len): the pages of [addr, addr + len) leave this process's page tables
 * (MADV_DONTNEED), if none of them is private: present or swapped and anonymous, per
 * /proc/self/pagemap (bit 63 present, 62 swapped, 61 file page or shared). Such a range is
 * file pages (the node binary's text, say) or shared memory, which stay in the page cache and
 * come back by a minor fault when used; a private page (a copy on write, the heap) would be
 * lost, so a range with one is left whole. Returns the kB that were resident and dropped; 0
 * when the range was left (or had nothing resident).
 */
static napi_value op_drop_clean_pages(napi_env env, napi_callback_info info)
{
	ARGS(2);
	int64_t addr, len;
	if (napi_get_value_int64(env, argv[0], &addr) != napi_ok || napi_get_value_int64(env, argv[1], &len) != napi_ok)
		return throw_range(env, "address and length must be numbers");
	long psz = sysconf(_SC_PAGESIZE);
	if (addr < 0 || len <= 0 || addr % psz || len % psz)
		return throw_range(env, "address and length must be whole pages");
	int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pm < 0)
		return throw_errno(env, "open", errno);
	uint64_t e[512];
	int64_t resident = 0;
	for (int64_t a = addr; a < addr + len;) {
		int64_t want = (addr + len - a) / psz;
		if (want > 512)
			want = 512;
		ssize_t n = pread(pm, e, (size_t)want * sizeof(e[0]), (off_t)(a / psz) * (off_t)sizeof(e[0]));
		if (n <= 0) {
			int err = n < 0 ? errno : EIO;
			close(pm);
			return throw_errno(env, "pread", err);
		}
		n /= (ssize_t)sizeof(e[0]);
		for (ssize_t i = 0; i < n; i++) {
			if ((e[i] >> 62 & 1) || ((e[i] >> 63 & 1) && !(e[i] >> 61 & 1))) {
				close(pm);
				return int_result(env, 0);
			}
			resident += (int64_t)(e[i] >> 63 & 1);
		}
		a += n * psz;
	}
	close(pm);
	if (!resident)
		return int_result(env, 0);
	if (madvise((void *)(uintptr_t)addr, (size_t)len, MADV_DONTNEED) < 0)
		return throw_errno(env, "madvise", errno);
	return int_result(env, (int)(resident * (psz / 1024)));
}

/* ---------- constants: the kernel's numbers, so TypeScript never hard-codes an ABI ---------- */

#define K(x) { #x, (x) }
static const struct {
	const char *name;
	int value;
} constants[] = {
	K(AF_INET), K(AF_INET6), K(AF_PACKET), K(AF_NETLINK), K(AF_UNSPEC),
	K(SOCK_RAW), K(SOCK_DGRAM), K(SOCK_STREAM), K(SOMAXCONN),
	K(IPPROTO_IP), K(IPPROTO_IPV6), K(IPPROTO_ICMP), K(IPPROTO_ICMPV6), K(IPPROTO_RAW),
	K(SOL_SOCKET), K(SO_BINDTODEVICE), K(SO_RCVBUF), K(SO_SNDBUF), K(SO_ERROR),
	K(SO_RCVBUFFORCE), K(SO_PRIORITY), K(SO_TIMESTAMPNS), K(SO_REUSEADDR),
	K(IP_TTL), K(IP_MULTICAST_TTL), K(IP_MULTICAST_LOOP), K(IP_MULTICAST_IF),
	K(IP_ADD_MEMBERSHIP), K(IP_DROP_MEMBERSHIP), K(IP_RECVTTL), K(IP_PKTINFO),
	K(IP_MULTICAST_ALL), K(IP_FREEBIND),
	K(IPV6_UNICAST_HOPS), K(IPV6_MULTICAST_HOPS), K(IPV6_MULTICAST_LOOP),
	K(IPV6_MULTICAST_IF), K(IPV6_ADD_MEMBERSHIP), K(IPV6_DROP_MEMBERSHIP),
	K(IPV6_RECVHOPLIMIT), K(IPV6_RECVPKTINFO), K(IPV6_CHECKSUM), K(IPV6_V6ONLY),
	K(IPV6_MULTICAST_ALL),
	K(ETH_P_ARP), K(ETH_P_IPV6), K(ETH_P_IP), K(ETH_P_ALL),
	K(NETLINK_ROUTE), K(SOL_NETLINK), K(NETLINK_EXT_ACK), K(NETLINK_CAP_ACK),
	K(MSG_TRUNC), K(MSG_CTRUNC),
	K(SCHED_OTHER), K(SCHED_FIFO), K(SCHED_RR), K(SCHED_RESET_ON_FORK), K(MCL_CURRENT), K(MCL_FUTURE), K(MLOCK_ONFAULT),
	K(UV_READABLE), K(UV_WRITABLE),
	{ "SIZEOF_SOCKADDR_STORAGE", sizeof(struct sockaddr_storage) },
};

NAPI_MODULE_INIT()
{
	static const struct {
		const char *name;
		napi_callback fn;
	} ops[] = {
		{ "socket", op_socket },
		{ "setsockoptInt", op_setsockopt_int },
		{ "setsockoptBuf", op_setsockopt_buf },
		{ "bind", op_bind },
		{ "listen", op_listen },
		{ "attachFilter", op_attach_filter },
		{ "getsockname", op_getsockname },
		{ "sendTo", op_send_to },
		{ "recvMsg", op_recv_msg },
		{ "pollStart", op_poll_start },
		{ "pollStop", op_poll_stop },
		{ "close", op_close },
		{ "schedSetScheduler", op_sched_set_scheduler },
		{ "schedGetScheduler", op_sched_get_scheduler },
		{ "mlockall", op_mlockall },
		{ "mlock2", op_mlock2 },
		{ "munlockall", op_munlockall },
		{ "ifNameToIndex", op_if_name_to_index },
		{ "asan", op_asan },
		{ "timerCreate", op_timer_create },
		{ "timerSet", op_timer_set },
		{ "pidfdOpen", op_pidfd_open },
		{ "spawnHook", op_spawn_hook },
		{ "spawnChild", op_spawn_child },
		{ "read", op_read },
		{ "pidfdWait", op_pidfd_wait },
		{ "setCloexec", op_set_cloexec },
		{ "isatty", op_isatty },
		{ "mallocTrim", op_malloc_trim },
		{ "dropCleanPages", op_drop_clean_pages },
	};
	napi_value fn, consts, v;
	struct state *st = calloc(1, sizeof(*st));
	if (!st || napi_set_instance_data(env, st, state_free, NULL) != napi_ok)
		return NULL;
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		CHECK(napi_create_function(env, ops[i].name, NAPI_AUTO_LENGTH, ops[i].fn, NULL, &fn));
		CHECK(napi_set_named_property(env, exports, ops[i].name, fn));
	}
	CHECK(napi_create_object(env, &consts));
	for (size_t i = 0; i < sizeof(constants) / sizeof(constants[0]); i++) {
		CHECK(napi_create_int32(env, constants[i].value, &v));
		CHECK(napi_set_named_property(env, consts, constants[i].name, v));
	}
	CHECK(napi_set_named_property(env, exports, "constants", consts));
	return exports;
}
