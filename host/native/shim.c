/*
 * The shim's helpers (errors, the argument prologue), the kernel's constants and the module's
 * init. Hot-path contract (socket.c): sendTo and recvMsg take caller-owned typed arrays (a view
 * over the core's WebAssembly memory in production), return small integers and allocate nothing.
 */
#include "shim.h"
#include <uv.h>

#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/netlink.h>

/* ---------- errors: errno -> { code: 'EPERM', errno, syscall } ---------- */

napi_value throw_errno(napi_env env, const char *syscall, int err)
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

napi_value throw_range(napi_env env, const char *what)
{
	napi_throw_range_error(env, "ERR_OUT_OF_RANGE", what);
	return NULL;
}

napi_value int_result(napi_env env, int v)
{
	napi_value r;
	napi_create_int32(env, v, &r);
	return r;
}

/* ---------- the argument prologue ---------- */

static int type_error(napi_env env, const char *what)
{
	napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", what);
	return -1;
}

/* Any TypedArray (or Buffer): its bytes, whatever the element type. */
static int arg_bytes(napi_env env, napi_value v, uint8_t **data, size_t *len)
{
	static const size_t width[] = { 1, 1, 1, 2, 2, 4, 4, 4, 8, 8, 8, 2 };
	napi_typedarray_type type;
	size_t n, off;
	napi_value ab;
	void *p;
	bool ok = false;

	napi_is_typedarray(env, v, &ok);
	if (!ok || napi_get_typedarray_info(env, v, &type, &n, &p, &ab, &off) != napi_ok)
		return type_error(env, "expected a TypedArray");
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

int args(napi_env env, napi_callback_info info, const char *fmt, ...)
{
	napi_value argv[8];
	size_t want = strlen(fmt), argc = sizeof(argv) / sizeof(argv[0]);
	if (want > argc || napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok)
		return -1;
	if (argc < want) {
		napi_throw_type_error(env, "ERR_MISSING_ARGS", "missing arguments");
		return -1;
	}
	va_list ap;
	va_start(ap, fmt);
	int rc = 0;
	for (size_t i = 0; i < want && rc == 0; i++) {
		switch (fmt[i]) {
		case 'i':
			if (napi_get_value_int32(env, argv[i], va_arg(ap, int32_t *)) != napi_ok)
				rc = type_error(env, "expected an integer");
			break;
		case 'l':
			if (napi_get_value_int64(env, argv[i], va_arg(ap, int64_t *)) != napi_ok)
				rc = type_error(env, "expected a number");
			break;
		case 'd':
			if (napi_get_value_double(env, argv[i], va_arg(ap, double *)) != napi_ok)
				rc = type_error(env, "expected a number");
			break;
		case 'b': {
			uint8_t **p = va_arg(ap, uint8_t **);
			rc = arg_bytes(env, argv[i], p, va_arg(ap, size_t *));
			break;
		}
		case 's': {
			uint8_t **p = va_arg(ap, uint8_t **);
			rc = arg_sockaddr(env, argv[i], p, va_arg(ap, size_t *));
			break;
		}
		case 'v':
			*va_arg(ap, napi_value *) = argv[i];
			break;
		default:
			rc = type_error(env, "bad argument format (a bug in the shim)");
		}
	}
	va_end(ap);
	return rc;
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
	K(SOL_SOCKET), K(SO_ATTACH_BPF), K(SO_BINDTODEVICE), K(SO_RCVBUF), K(SO_SNDBUF), K(SO_ERROR),
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
	K(MADV_DONTNEED), K(O_RDONLY), K(O_WRONLY), K(O_RDWR), K(O_NONBLOCK), K(POSIX_SPAWN_SETPGROUP),
	K(UV_READABLE), K(UV_WRITABLE),
	{ "SIZEOF_SOCKADDR_STORAGE", sizeof(struct sockaddr_storage) },
	/* spawn's file actions (process.c): records of four int32s */
	{ "SPAWN_DUP2", 1 }, { "SPAWN_OPEN", 2 }, { "SPAWN_CLOSEFROM", 3 },
};

static napi_value register_ops(napi_env env, napi_value exports, const struct op *ops, size_t n)
{
	napi_value fn;
	for (size_t i = 0; i < n; i++) {
		CHECK(napi_create_function(env, ops[i].name, NAPI_AUTO_LENGTH, ops[i].fn, NULL, &fn));
		CHECK(napi_set_named_property(env, exports, ops[i].name, fn));
	}
	return exports;
}

NAPI_MODULE_INIT()
{
	napi_value consts, v;
	if (poll_state_init(env) < 0)
		return NULL;
	if (!register_ops(env, exports, socket_ops, socket_ops_n) || !register_ops(env, exports, poll_ops, poll_ops_n) ||
	    !register_ops(env, exports, process_ops, process_ops_n) || !register_ops(env, exports, memory_ops, memory_ops_n) ||
	    !register_ops(env, exports, bpf_ops, bpf_ops_n))
		return NULL;
	CHECK(napi_create_object(env, &consts));
	for (size_t i = 0; i < sizeof(constants) / sizeof(constants[0]); i++) {
		CHECK(napi_create_int32(env, constants[i].value, &v));
		CHECK(napi_set_named_property(env, consts, constants[i].name, v));
	}
	/* not a compile-time constant: host/net/memory.ts reads pagemap entries by it */
	CHECK(napi_create_int32(env, (int)sysconf(_SC_PAGESIZE), &v));
	CHECK(napi_set_named_property(env, consts, "PAGE_SIZE", v));
	CHECK(napi_set_named_property(env, exports, "constants", consts));
	return exports;
}
