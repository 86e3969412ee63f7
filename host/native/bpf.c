/*
 * bpf(2), generically: a map made, a program loaded from instructions the caller built as bytes
 * (host/net/bpf-asm.ts), a map element read. The program is attached with setsockoptInt and
 * SO_ATTACH_BPF. Only what a socket filter that counts needs: the VRRP receive filter
 * (host/net/vrrp-filter.ts) drops what the core would drop anyway, in the kernel, and counts it.
 */
#include "shim.h"

#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

/* bpfMapCreate(type, keySize, valueSize, maxEntries) -> fd (close-on-exec, as every bpf fd). */
static napi_value op_bpf_map_create(napi_env env, napi_callback_info info)
{
	int32_t type, key, value, entries;
	if (args(env, info, "iiii", &type, &key, &value, &entries))
		return NULL;
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = (uint32_t)type;
	a.key_size = (uint32_t)key;
	a.value_size = (uint32_t)value;
	a.max_entries = (uint32_t)entries;
	return sys_int(env, sys_bpf(BPF_MAP_CREATE, &a), "bpf(BPF_MAP_CREATE)");
}

/*
 * bpfProgLoad(type, insns, log) -> fd. `log` (bytes, may be empty) receives the verifier's
 * account of a refusal, NUL-terminated: the caller puts it in its error.
 */
static napi_value op_bpf_prog_load(napi_env env, napi_callback_info info)
{
	int32_t type;
	uint8_t *insns, *log;
	size_t len, loglen;
	if (args(env, info, "ibb", &type, &insns, &len, &log, &loglen))
		return NULL;
	if (len == 0 || len % sizeof(struct bpf_insn))
		return throw_range(env, "a BPF program is whole 8-byte instructions");
	static const char license[] = "GPL";   /* no GPL-only helper is called; the kernel asks */
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = (uint32_t)type;
	a.insns = (uintptr_t)insns;
	a.insn_cnt = (uint32_t)(len / sizeof(struct bpf_insn));
	a.license = (uintptr_t)license;
	if (loglen > 1) {
		log[0] = 0;
		a.log_buf = (uintptr_t)log;
		a.log_size = (uint32_t)loglen;
		a.log_level = 1;
	}
	long fd = sys_bpf(BPF_PROG_LOAD, &a);
	if (fd < 0 && errno == ENOSPC && loglen > 1) {
		/* The log did not fit: loaded again without it, for the error alone. */
		a.log_buf = 0; a.log_size = 0; a.log_level = 0;
		fd = sys_bpf(BPF_PROG_LOAD, &a);
	}
	return sys_int(env, fd, "bpf(BPF_PROG_LOAD)");
}

/*
 * bpfMapLookup(fd, key, value): the element into `value`. The kernel reads and writes the map's
 * own key and value sizes, so buffers of other sizes are refused before it does.
 */
static napi_value op_bpf_map_lookup(napi_env env, napi_callback_info info)
{
	int32_t fd;
	uint8_t *key, *value;
	size_t klen, vlen;
	if (args(env, info, "ibb", &fd, &key, &klen, &value, &vlen))
		return NULL;
	struct bpf_map_info mi;
	union bpf_attr a;
	memset(&mi, 0, sizeof(mi));
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (uint32_t)fd;
	a.info.info_len = sizeof(mi);
	a.info.info = (uintptr_t)&mi;
	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) < 0)
		return throw_errno(env, "bpf(BPF_OBJ_GET_INFO_BY_FD)", errno);
	if (klen != mi.key_size || vlen != mi.value_size)
		return throw_range(env, "the key and value must be the map's key and value sizes");
	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)fd;
	a.key = (uintptr_t)key;
	a.value = (uintptr_t)value;
	return sys_void(env, sys_bpf(BPF_MAP_LOOKUP_ELEM, &a), "bpf(BPF_MAP_LOOKUP_ELEM)");
}

const struct op bpf_ops[] = {
	OP("bpfMapCreate", op_bpf_map_create), OP("bpfProgLoad", op_bpf_prog_load), OP("bpfMapLookup", op_bpf_map_lookup),
};
const size_t bpf_ops_n = sizeof(bpf_ops) / sizeof(bpf_ops[0]);
