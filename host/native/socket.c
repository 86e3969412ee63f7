/*
 * Sockets: open, options, bind, classic BPF, and the hot path (sendTo, recvMsg): caller-owned
 * typed arrays, a small integer back, nothing allocated; "would block" is -1, not an exception.
 */
#include "shim.h"

#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/filter.h>

static napi_value op_socket(napi_env env, napi_callback_info info)
{
	int32_t domain, type, proto;
	if (args(env, info, "iii", &domain, &type, &proto))
		return NULL;
	/* Non-blocking always: readiness comes from uv_poll, never from a blocked thread. */
	return sys_int(env, socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto), "socket");
}

static napi_value op_setsockopt_int(napi_env env, napi_callback_info info)
{
	int32_t fd, level, name, value;
	if (args(env, info, "iiii", &fd, &level, &name, &value))
		return NULL;
	return sys_void(env, setsockopt(fd, level, name, &value, sizeof(value)), "setsockopt");
}

static napi_value op_setsockopt_buf(napi_env env, napi_callback_info info)
{
	int32_t fd, level, name;
	uint8_t *buf;
	size_t len;
	if (args(env, info, "iiib", &fd, &level, &name, &buf, &len))
		return NULL;
	return sys_void(env, setsockopt(fd, level, name, buf, (socklen_t)len), "setsockopt");
}

static napi_value op_bind(napi_env env, napi_callback_info info)
{
	int32_t fd;
	uint8_t *sa;
	size_t salen;
	if (args(env, info, "is", &fd, &sa, &salen))
		return NULL;
	if (!sa)
		return throw_range(env, "bind needs a sockaddr");
	return sys_void(env, bind(fd, (struct sockaddr *)sa, (socklen_t)salen), "bind");
}

/*
 * listen(fd, backlog): for the status server's socket, made and bound here and handed to Node
 * as { fd }. Node's own listen(port, host) validates the host with its IPv6 regular expression,
 * whose first compile takes ~13 ms here, on the path to the first advert.
 */
static napi_value op_listen(napi_env env, napi_callback_info info)
{
	int32_t fd, backlog;
	if (args(env, info, "ii", &fd, &backlog))
		return NULL;
	return sys_void(env, listen(fd, backlog), "listen");
}

/*
 * attachFilter(fd, insns): a classic BPF program (8-byte sock_filter records) built by the
 * caller. A send-only raw socket attaches "ret #0" so the kernel never queues to it.
 */
static napi_value op_attach_filter(napi_env env, napi_callback_info info)
{
	int32_t fd;
	uint8_t *insns;
	size_t len;
	if (args(env, info, "ib", &fd, &insns, &len))
		return NULL;
	if (len == 0 || len % sizeof(struct sock_filter) || len / sizeof(struct sock_filter) > BPF_MAXINSNS)
		return throw_range(env, "a BPF program is 1..4096 8-byte instructions");
	struct sock_fprog prog = { .len = (unsigned short)(len / sizeof(struct sock_filter)),
				   .filter = (struct sock_filter *)insns };
	return sys_void(env, setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)), "setsockopt");
}

/* getsockname(fd, out) -> length written; netlink uses it to learn its port id. */
static napi_value op_getsockname(napi_env env, napi_callback_info info)
{
	int32_t fd;
	uint8_t *out;
	size_t outlen;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (args(env, info, "ib", &fd, &out, &outlen))
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
	int32_t fd, off, len;
	uint8_t *buf, *sa;
	size_t buflen, salen;
	if (args(env, info, "ibiis", &fd, &buf, &buflen, &off, &len, &sa, &salen))
		return NULL;
	if (off < 0 || len < 0 || (size_t)off + (size_t)len > buflen)
		return throw_range(env, "off/len outside the buffer");
	return sys_nonblock(env, sendto(fd, buf + off, (size_t)len, MSG_NOSIGNAL, (struct sockaddr *)sa, (socklen_t)salen), "sendto");
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
	int32_t fd, off, len;
	uint8_t *buf, *src, *metab;
	size_t buflen, srclen, metalen;
	if (args(env, info, "ibiibb", &fd, &buf, &buflen, &off, &len, &src, &srclen, &metab, &metalen))
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
	if (n < 0)
		return sys_nonblock(env, n, "recvmsg");
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

static napi_value op_if_name_to_index(napi_env env, napi_callback_info info)
{
	napi_value name_v;
	char name[IF_NAMESIZE + 1];
	size_t n;
	if (args(env, info, "v", &name_v))
		return NULL;
	if (napi_get_value_string_utf8(env, name_v, name, sizeof(name), &n) != napi_ok)
		return throw_range(env, "interface name must be a string");
	if (n >= IF_NAMESIZE)
		return throw_errno(env, "if_nametoindex", ENAMETOOLONG);
	unsigned idx = if_nametoindex(name);
	return idx ? int_result(env, (int)idx) : throw_errno(env, "if_nametoindex", errno);
}

/* close(fd): its watch (poll.c) stops first, so the fd number can be reused at once. */
static napi_value op_close(napi_env env, napi_callback_info info)
{
	int32_t fd;
	if (args(env, info, "i", &fd))
		return NULL;
	poll_stop_fd(env, fd);
	return sys_void(env, close(fd), "close");
}

const struct op socket_ops[] = {
	OP("socket", op_socket), OP("setsockoptInt", op_setsockopt_int), OP("setsockoptBuf", op_setsockopt_buf),
	OP("bind", op_bind), OP("listen", op_listen), OP("attachFilter", op_attach_filter),
	OP("getsockname", op_getsockname), OP("sendTo", op_send_to), OP("recvMsg", op_recv_msg),
	OP("ifNameToIndex", op_if_name_to_index), OP("close", op_close),
};
const size_t socket_ops_n = sizeof(socket_ops) / sizeof(socket_ops[0]);
