/* Raw IPv4 sockets for the gatehouse addon: socket(AF_INET, SOCK_RAW, protocol) for GRE (47, RFC
 * 2637 §4) and later ESP (50), optional bind(2), sendto(2)/sendmmsg(2) with the kernel writing the
 * IPv4 header (no IP_HDRINCL; raw(7)). Receiving goes through the batching reader (reader.c):
 * read(2) on a raw socket returns one datagram WITH its IPv4 header, so the source address is kept. */
#define _GNU_SOURCE
#include "common.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_SEND_BATCH 1024

napi_status gh_init_rawip(napi_env env, napi_value exports);

/* Reads an IPv4 dotted-quad argument into `out`; throws TypeError and returns 0 if it is not one. */
static int arg_ipv4(napi_env env, napi_value v, const char *what, struct sockaddr_in *out, char *text, size_t text_len) {
  napi_valuetype t;
  size_t n = 0;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_string || napi_get_value_string_utf8(env, v, text, text_len, &n) != napi_ok || n >= text_len - 1) {
    char msg[96];
    snprintf(msg, sizeof msg, "%s must be an IPv4 address string", what);
    gh_throw_type(env, msg);
    return 0;
  }
  memset(out, 0, sizeof *out);
  out->sin_family = AF_INET;
  if (inet_pton(AF_INET, text, &out->sin_addr) != 1) {
    char msg[96];
    snprintf(msg, sizeof msg, "%s must be an IPv4 address, got \"%.40s\"", what, text);
    gh_throw_type(env, msg);
    return 0;
  }
  return 1;
}

/* openRaw(protocol, bindAddress?, recvBufferBytes?) -> fd. Non-blocking and close-on-exec. A raw
 * socket receives every packet of `protocol` addressed to this host (bind narrows it to one local
 * address). Needs CAP_NET_RAW; errors carry errno + syscall ("socket", "bind", "setsockopt"). */
static napi_value open_raw(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1) return gh_throw_type(env, "openRaw(protocol, bindAddress?, recvBufferBytes?)");
  int32_t proto;
  if (!gh_arg_i32(env, argv[0], "protocol", &proto)) return NULL;
  /* 0 (IPPROTO_IP) and 255 (IPPROTO_RAW) mean other things on raw sockets: refuse them. */
  if (proto <= 0 || proto >= 255) return gh_throw_type(env, "protocol must be 1..254");
  int fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
  if (fd < 0) return gh_throw_errno(env, errno, "socket", "AF_INET SOCK_RAW");
  if (argc >= 3) {
    napi_valuetype t;
    napi_typeof(env, argv[2], &t);
    if (t == napi_number) {
      int32_t bytes;
      napi_get_value_int32(env, argv[2], &bytes);
      /* SO_RCVBUFFORCE needs CAP_NET_ADMIN (we usually have it); fall back to the capped SO_RCVBUF. */
      if (bytes > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) < 0 &&
          setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes) < 0) {
        int e = errno;
        close(fd);
        return gh_throw_errno(env, e, "setsockopt", "SO_RCVBUF");
      }
    }
  }
  if (argc >= 2) {
    napi_valuetype t;
    napi_typeof(env, argv[1], &t);
    if (t == napi_string) {
      struct sockaddr_in sa;
      char text[64];
      if (!arg_ipv4(env, argv[1], "bindAddress", &sa, text, sizeof text)) { close(fd); return NULL; }
      if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int e = errno;
        close(fd);
        return gh_throw_errno(env, e, "bind", text);
      }
    } else if (t != napi_undefined && t != napi_null) {
      close(fd);
      return gh_throw_type(env, "bindAddress must be a string");
    }
  }
  napi_value out;
  napi_create_int32(env, fd, &out);
  return out;
}

/* rawSend(fd, dest, payload) -> boolean: true sent, false dropped (EAGAIN/ENOBUFS: the socket
 * buffer is full — IP is lossy, the caller counts it). Other errors throw with syscall "sendto"
 * and the destination in the message. */
static napi_value raw_send(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3) return gh_throw_type(env, "rawSend(fd, dest, payload)");
  int32_t fd;
  struct sockaddr_in sa;
  char text[64];
  void *data;
  size_t len;
  if (!gh_arg_i32(env, argv[0], "fd", &fd)) return NULL;
  if (!arg_ipv4(env, argv[1], "dest", &sa, text, sizeof text)) return NULL;
  if (!gh_arg_bytes(env, argv[2], "payload", &data, &len)) return NULL;
  for (;;) {
    ssize_t n = sendto(fd, data, len, 0, (struct sockaddr *)&sa, sizeof sa);
    if (n >= 0) break;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
      napi_value f;
      napi_get_boolean(env, false, &f);
      return f;
    }
    return gh_throw_errno(env, errno, "sendto", text);
  }
  napi_value t;
  napi_get_boolean(env, true, &t);
  return t;
}

/* rawSendMany(fd, dests: string[], payloads: Uint8Array[]) -> number sent. One sendmmsg(2) per
 * up to 1024 packets; stops at the first EAGAIN/ENOBUFS (the rest count as dropped by the
 * caller). Other errors throw with syscall "sendmmsg", the failing destination, and `written`. */
static napi_value raw_send_many(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3) return gh_throw_type(env, "rawSendMany(fd, dests, payloads)");
  int32_t fd;
  if (!gh_arg_i32(env, argv[0], "fd", &fd)) return NULL;
  bool a1, a2;
  if (napi_is_array(env, argv[1], &a1) != napi_ok || !a1 || napi_is_array(env, argv[2], &a2) != napi_ok || !a2) return gh_throw_type(env, "dests and payloads must be arrays");
  uint32_t count, count2;
  napi_get_array_length(env, argv[1], &count);
  napi_get_array_length(env, argv[2], &count2);
  if (count != count2) return gh_throw_type(env, "dests and payloads must have the same length");
  static __thread struct mmsghdr msgs[MAX_SEND_BATCH];
  static __thread struct iovec iov[MAX_SEND_BATCH];
  static __thread struct sockaddr_in addrs[MAX_SEND_BATCH];
  uint32_t sent = 0;
  while (sent < count) {
    uint32_t n = count - sent < MAX_SEND_BATCH ? count - sent : MAX_SEND_BATCH;
    for (uint32_t i = 0; i < n; i++) {
      napi_value d, p;
      char text[64];
      void *data;
      size_t len;
      if (napi_get_element(env, argv[1], sent + i, &d) != napi_ok || napi_get_element(env, argv[2], sent + i, &p) != napi_ok) return NULL;
      if (!arg_ipv4(env, d, "dest", &addrs[i], text, sizeof text)) return NULL;
      if (!gh_arg_bytes(env, p, "payload", &data, &len)) return NULL;
      iov[i].iov_base = data;
      iov[i].iov_len = len;
      memset(&msgs[i], 0, sizeof msgs[i]);
      msgs[i].msg_hdr.msg_name = &addrs[i];
      msgs[i].msg_hdr.msg_namelen = sizeof addrs[i];
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int r = sendmmsg(fd, msgs, n, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) break;
      char dest[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, &addrs[0].sin_addr, dest, sizeof dest);
      napi_value e = gh_make_errno_error(env, errno, "sendmmsg", dest), jw;
      if (e == NULL) return NULL;
      napi_create_uint32(env, sent, &jw);
      napi_set_named_property(env, e, "written", jw);
      napi_throw(env, e);
      return NULL;
    }
    sent += (uint32_t)r;
    if ((uint32_t)r < n) {
      /* Partial: the next message failed; retry from it (an error or EAGAIN then shows itself). */
      continue;
    }
  }
  napi_value out;
  napi_create_uint32(env, sent, &out);
  return out;
}

napi_status gh_init_rawip(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "openRaw", NULL, open_raw, NULL, NULL, NULL, napi_enumerable, NULL },
    { "rawSend", NULL, raw_send, NULL, NULL, NULL, napi_enumerable, NULL },
    { "rawSendMany", NULL, raw_send_many, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
