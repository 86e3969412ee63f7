/*
 * Processes: one generic spawn (posix_spawnp with file actions the caller builds), pipes,
 * pidfds for children libuv did not spawn, and the scheduling policy. Which descriptors a
 * child of vigil gets is TypeScript's (host/net/spawn.ts), not this file's.
 */
#include "shim.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static napi_value op_sched_set_scheduler(napi_env env, napi_callback_info info)
{
	int32_t policy, prio;
	if (args(env, info, "ii", &policy, &prio))
		return NULL;
	struct sched_param sp = { .sched_priority = prio };
	return sys_void(env, sched_setscheduler(0, policy, &sp), "sched_setscheduler");
}

static napi_value op_sched_get_scheduler(napi_env env, napi_callback_info info)
{
	(void)info;
	return sys_int(env, sched_getscheduler(0), "sched_getscheduler");
}

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
	int32_t pid;
	if (args(env, info, "i", &pid))
		return NULL;
	return sys_int(env, syscall(SYS_pidfd_open, (pid_t)pid, 0), "pidfd_open");
}

/* pidfdWait(fd) -> null while it runs; its exit status (>= 0) or -signal once reaped. */
static napi_value op_pidfd_wait(napi_env env, napi_callback_info info)
{
	int32_t fd;
	siginfo_t si;
	if (args(env, info, "i", &fd))
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

/*
 * pipe(flags) -> [read end, write end], both close-on-exec; flags bit 1: the read end is
 * non-blocking, bit 2: the write end is.
 */
static napi_value op_pipe(napi_env env, napi_callback_info info)
{
	int32_t flags;
	int p[2];
	napi_value out, x;
	if (args(env, info, "i", &flags))
		return NULL;
	if (pipe2(p, O_CLOEXEC) < 0)
		return throw_errno(env, "pipe2", errno);
	for (int i = 0; i < 2; i++)
		if ((flags >> i) & 1)
			fcntl(p[i], F_SETFL, fcntl(p[i], F_GETFL) | O_NONBLOCK);
	CHECK(napi_create_array_with_length(env, 2, &out));
	for (uint32_t i = 0; i < 2; i++) {
		CHECK(napi_create_int32(env, p[i], &x));
		CHECK(napi_set_element(env, out, i, x));
	}
	return out;
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

enum { SPAWN_DUP2 = 1, SPAWN_OPEN = 2, SPAWN_CLOSEFROM = 3 };

/* The caller's file actions: records of four int32s, [SPAWN_DUP2, fd, newfd, 0],
 * [SPAWN_OPEN, fd, oflag, index into paths], [SPAWN_CLOSEFROM, lowfd, 0, 0]. 0 or an errno
 * (EINVAL for a record this op does not know). */
static int file_actions(posix_spawn_file_actions_t *fa, const int32_t *a, size_t n, char **paths)
{
	size_t npaths = 0;
	while (paths[npaths])
		npaths++;
	for (size_t i = 0; i + 4 <= n; i += 4) {
		int rc;
		switch (a[i]) {
		case SPAWN_DUP2:
			rc = posix_spawn_file_actions_adddup2(fa, a[i + 1], a[i + 2]);
			break;
		case SPAWN_OPEN:
			if (a[i + 3] < 0 || (size_t)a[i + 3] >= npaths)
				return EINVAL;
			rc = posix_spawn_file_actions_addopen(fa, a[i + 1], paths[a[i + 3]], a[i + 2], 0);
			break;
		case SPAWN_CLOSEFROM: /* glibc 2.34 */
			rc = posix_spawn_file_actions_addclosefrom_np(fa, a[i + 1]);
			break;
		default:
			return EINVAL;
		}
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * spawn(argv, envp, actions, paths, flags) -> pid: posix_spawnp(argv[0]) with the caller's
 * file actions, default signal dispositions and an empty mask (Node ignores SIGPIPE and blocks
 * others; libuv resets them for its children as well), and `flags` (POSIX_SPAWN_SETPGROUP: a
 * process group of its own). The clone shares this process's memory (CLONE_VM | CLONE_VFORK)
 * until the exec: libuv forks, the engine's page tables copied, 5-19 ms measured here with the
 * main thread blocked. Its exit: pidfdOpen(pid).
 */
static napi_value op_spawn(napi_env env, napi_callback_info info)
{
	napi_value argv_v, envp_v, paths_v;
	uint8_t *actions;
	size_t alen;
	int32_t flags;
	if (args(env, info, "vvbvi", &argv_v, &envp_v, &actions, &alen, &paths_v, &flags))
		return NULL;
	if (((uintptr_t)actions & 3) || alen % 16)
		return throw_range(env, "file actions are an Int32Array of four-int records");
	char **av = arg_strings(env, argv_v), **ev = av ? arg_strings(env, envp_v) : NULL,
	     **paths = ev ? arg_strings(env, paths_v) : NULL;
	napi_value result = NULL;
	if (!paths)
		goto out;
	if (!av[0]) {
		throw_range(env, "spawn needs argv[0]");
		goto out;
	}
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t all, none;
	pid_t pid;
	sigfillset(&all);
	sigemptyset(&none);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawnattr_setflags(&at, (short)(flags | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF));
	if (flags & POSIX_SPAWN_SETPGROUP)
		posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	int rc = file_actions(&fa, (const int32_t *)actions, alen / 4, paths);
	if (rc == 0)
		rc = posix_spawnp(&pid, av[0], &fa, &at, av, ev);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	result = rc ? throw_errno(env, "posix_spawn", rc) : int_result(env, pid);
out:
	free_strings(av);
	free_strings(ev);
	free_strings(paths);
	return result;
}

/* read(fd, buf) -> bytes read, 0 at EOF, -1 when nothing is there yet (EAGAIN). */
static napi_value op_read(napi_env env, napi_callback_info info)
{
	int32_t fd;
	uint8_t *buf;
	size_t len;
	if (args(env, info, "ib", &fd, &buf, &len))
		return NULL;
	return sys_nonblock(env, read(fd, buf, len), "read");
}

/* setCloexec(fd): an inherited fd (the engine's pipe from bin/vigil) must not reach our children. */
static napi_value op_set_cloexec(napi_env env, napi_callback_info info)
{
	int32_t fd;
	if (args(env, info, "i", &fd))
		return NULL;
	int fl = fcntl(fd, F_GETFD);
	return sys_void(env, fl < 0 ? fl : fcntl(fd, F_SETFD, fl | FD_CLOEXEC), "fcntl");
}

/*
 * isatty(fd): 1 when fd is a terminal. node:tty's isatty is the same call, but loading that
 * module loads node:net with it (~5 ms here, on the engine's way to its first advert).
 */
static napi_value op_isatty(napi_env env, napi_callback_info info)
{
	int32_t fd;
	if (args(env, info, "i", &fd))
		return NULL;
	return int_result(env, isatty(fd));
}

const struct op process_ops[] = {
	OP("schedSetScheduler", op_sched_set_scheduler), OP("schedGetScheduler", op_sched_get_scheduler),
	OP("pidfdOpen", op_pidfd_open), OP("pidfdWait", op_pidfd_wait), OP("pipe", op_pipe),
	OP("spawn", op_spawn), OP("read", op_read), OP("setCloexec", op_set_cloexec), OP("isatty", op_isatty),
};
const size_t process_ops_n = sizeof(process_ops) / sizeof(process_ops[0]);
