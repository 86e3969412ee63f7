/*
 * Readiness through libuv (uv_poll on Node's loop: no thread per fd) and one-shot timers with
 * microsecond resolution (a timerfd, whose readiness comes through the same poll).
 */
#include "shim.h"
#include <uv.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

struct watch {
	uv_poll_t handle;
	napi_env env;
	napi_ref callback;
	napi_async_context ctx;
	struct state *st;
	bool fast; /* pollStartFast: a plain call, the callback scope only when it asks */
};

/* Per-addon-instance table, indexed by fd: one watch per fd, as uv_poll requires. */
struct state {
	struct watch **by_fd;
	int cap;
	double *clock;  /* clockCell's Float64Array, or NULL */
	napi_ref clock_ref;
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

/* CLOCK_MONOTONIC in microseconds: the engine's clock (host/agent/handover.ts monotonicUs). */
static double monotonic_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void fatal_pending(napi_env env)
{
	napi_value exc;
	if (napi_get_and_clear_last_exception(env, &exc) == napi_ok && exc)
		napi_fatal_exception(env, exc);
}

/*
 * A fast watch's callback is a plain call: no async context, no microtask checkpoint, which
 * were ~7 % of an engine's CPU per wake-up at 100 adverts/s (Node's InternalCallbackScope and
 * napi_make_callback, perf). It returns 0 when it queued nothing (a master's advert and the
 * timer re-armed); anything else, an exception aside, and an empty callback scope is opened and
 * closed, which runs the microtasks and ticks as after any libuv callback.
 */
static void call_fast(napi_env env, struct watch *w, napi_value cb)
{
	napi_value result;
	int32_t clean = 1;
	if (napi_call_function(env, cb, cb, 0, NULL, &result) != napi_ok) {
		fatal_pending(env);
		return;
	}
	if (napi_get_value_int32(env, result, &clean) != napi_ok || clean != 0) {
		napi_callback_scope scope;
		if (napi_open_callback_scope(env, cb, w->ctx, &scope) == napi_ok)
			napi_close_callback_scope(env, scope);
	}
}

static void on_ready(uv_poll_t *h, int status, int events)
{
	struct watch *w = h->data;
	napi_env env = w->env;
	napi_handle_scope scope;
	napi_value cb, argv[3], result;
	double now = monotonic_us();

	if (w->st->clock)
		*w->st->clock = now;
	napi_open_handle_scope(env, &scope);
	if (napi_get_reference_value(env, w->callback, &cb) == napi_ok && cb && w->fast) {
		call_fast(env, w, cb);
	} else if (cb) {
		napi_create_int32(env, status, &argv[0]);
		napi_create_int32(env, events, &argv[1]);
		/* The wake-up's time (CLOCK_MONOTONIC, us), so the engine's timer callback needs no
		 * clock call of its own: performance.now() was ~4 % of its CPU at 100 adverts/s. */
		napi_create_double(env, now, &argv[2]);
		/* make_callback runs microtasks and async hooks as any libuv callback would. Its
		 * receiver (an object) is the callback itself: the global would be one V8 call more
		 * per wake-up (~1 % of an engine's CPU at 100 adverts/s, perf). */
		if (napi_make_callback(env, w->ctx, cb, cb, 3, argv, &result) != napi_ok)
			fatal_pending(env);
	}
	napi_close_handle_scope(env, scope);
}

/* pollStart(fd, events, callback(status, events, nowUs)): events is UV_READABLE and/or UV_WRITABLE;
 * nowUs is CLOCK_MONOTONIC in microseconds as libuv woke. */
static napi_value poll_start(napi_env env, napi_callback_info info, bool fast)
{
	int32_t fd, events;
	napi_value cb, name;
	struct state *st = get_state(env);
	uv_loop_t *loop;
	if (args(env, info, "iiv", &fd, &events, &cb))
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
	w->st = st;
	w->fast = fast;
	napi_create_reference(env, cb, 1, &w->callback);
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

static napi_value op_poll_start(napi_env env, napi_callback_info info)
{
	return poll_start(env, info, false);
}

/* pollStartFast(fd, events, callback() -> 0 | other): see call_fast. */
static napi_value op_poll_start_fast(napi_env env, napi_callback_info info)
{
	return poll_start(env, info, true);
}

/*
 * clockCell(Float64Array): its first element is set to CLOCK_MONOTONIC (us) as each poll
 * callback starts, so a fast callback (which gets no arguments) reads its wake-up's time in
 * place; a number made for it was ~2 % of an engine's CPU (napi_create_double, perf).
 */
static napi_value op_clock_cell(napi_env env, napi_callback_info info)
{
	struct state *st = get_state(env);
	napi_value arr;
	uint8_t *data;
	size_t len;
	if (args(env, info, "v", &arr) || args(env, info, "b", &data, &len))
		return NULL;
	if (len < sizeof(double) || ((uintptr_t)data % sizeof(double)) != 0)
		return throw_range(env, "clockCell: an aligned Float64Array of at least one element");
	if (st->clock_ref)
		napi_delete_reference(env, st->clock_ref);
	CHECK(napi_create_reference(env, arr, 1, &st->clock_ref));
	st->clock = (double *)data;
	return NULL;
}

void poll_stop_fd(napi_env env, int fd)
{
	struct state *st = get_state(env);
	if (fd >= 0 && fd < st->cap && st->by_fd[fd])
		watch_release(st, fd, false);
}

static napi_value op_poll_stop(napi_env env, napi_callback_info info)
{
	int32_t fd;
	if (args(env, info, "i", &fd))
		return NULL;
	poll_stop_fd(env, fd);
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

int poll_state_init(napi_env env)
{
	struct state *st = calloc(1, sizeof(*st));
	if (!st || napi_set_instance_data(env, st, state_free, NULL) != napi_ok) {
		free(st);
		return -1;
	}
	return 0;
}

/*
 * timerCreate() -> fd: a CLOCK_MONOTONIC timerfd whose readiness comes through pollStart like
 * a socket's. libuv's own timers wait in whole milliseconds, so a 10 ms advert would fire up
 * to 1 ms early or late; this one fires when asked, once per deadline.
 */
static napi_value op_timer_create(napi_env env, napi_callback_info info)
{
	(void)info;
	return sys_int(env, timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC), "timerfd_create");
}

/*
 * The two ways to arm: `us` relative (flags 0) or a CLOCK_MONOTONIC deadline (TFD_TIMER_ABSTIME);
 * Infinity or NaN disarms. All-zero would disarm too: a time at or below `floor_ns` is floor_ns.
 * No read(2) of the expirations first: timerfd_settime() zeroes them (timerfd_setup: ticks = 0),
 * so a fired timer is no longer readable once re-armed or disarmed (uv_poll is level-triggered).
 * A read was one syscall more per advert.
 */
static napi_value arm(napi_env env, napi_callback_info info, int flags, long long floor_ns)
{
	int32_t fd;
	double us;
	struct itimerspec its = { 0 };
	if (args(env, info, "id", &fd, &us))
		return NULL;
	if (isfinite(us)) {
		long long ns = us * 1000.0 < (double)floor_ns ? floor_ns : (long long)(us * 1000.0);
		its.it_value.tv_sec = ns / 1000000000LL;
		its.it_value.tv_nsec = ns % 1000000000LL;
	}
	return sys_void(env, timerfd_settime(fd, flags, &its, NULL), "timerfd_settime");
}

/* timerSet(fd, delayUs): fire once after delayUs microseconds (anything below 1 us: at once). */
static napi_value op_timer_set(napi_env env, napi_callback_info info)
{
	return arm(env, info, 0, 1000);
}

/*
 * timerAt(fd, deadlineUs): fire once at deadlineUs, CLOCK_MONOTONIC microseconds (at once when
 * it has passed). Absolute, so the caller needs no clock read to arm it.
 */
static napi_value op_timer_at(napi_env env, napi_callback_info info)
{
	return arm(env, info, TFD_TIMER_ABSTIME, 1);
}

/* clockMonotonic() -> CLOCK_MONOTONIC in microseconds (a double), the clock timerAt and the poll callback's third argument use. */
static napi_value op_clock_monotonic(napi_env env, napi_callback_info info)
{
	napi_value r;
	(void)info;
	napi_create_double(env, monotonic_us(), &r);
	return r;
}

const struct op poll_ops[] = {
	OP("pollStart", op_poll_start), OP("pollStartFast", op_poll_start_fast), OP("pollStop", op_poll_stop),
	OP("clockCell", op_clock_cell),
	OP("timerCreate", op_timer_create), OP("timerSet", op_timer_set),
	OP("timerAt", op_timer_at), OP("clockMonotonic", op_clock_monotonic),
};
const size_t poll_ops_n = sizeof(poll_ops) / sizeof(poll_ops[0]);
