/* TUN attach and write for the gatehouse addon: open("/dev/net/tun") + ioctl(TUNSETIFF) with
 * IFF_TUN | IFF_NO_PI (Linux Documentation/networking/tuntap.rst), sync write(2), close(2). */
#define _GNU_SOURCE
#include "common.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* openTun(name?: string, blocking?: boolean) -> { fd, name }
 * An empty/undefined name lets the kernel pick tunN. The fd is O_CLOEXEC so child processes
 * (ip, ping) never inherit it, and O_NONBLOCK unless `blocking` (the fs.read baseline needs it). */
static napi_value open_tun(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  char name[IFNAMSIZ];
  memset(name, 0, sizeof name);
  if (argc >= 1) {
    napi_valuetype t;
    napi_typeof(env, argv[0], &t);
    if (t == napi_string) {
      size_t n = 0;
      napi_get_value_string_utf8(env, argv[0], NULL, 0, &n);
      /* IFNAMSIZ includes the terminating NUL: at most 15 visible characters. */
      if (n >= IFNAMSIZ) return gh_throw_type(env, "TUN name must be at most 15 bytes");
      napi_get_value_string_utf8(env, argv[0], name, sizeof name, &n);
    } else if (t != napi_undefined && t != napi_null) {
      return gh_throw_type(env, "TUN name must be a string");
    }
  }
  bool blocking = false;
  if (argc >= 2) {
    napi_valuetype t;
    napi_typeof(env, argv[1], &t);
    if (t == napi_boolean) napi_get_value_bool(env, argv[1], &blocking);
  }
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | (blocking ? 0 : O_NONBLOCK));
  if (fd < 0) return gh_throw_errno(env, errno, "open", "/dev/net/tun");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  /* IFF_NO_PI: no 4-byte packet-information prefix; each read/write is exactly one IP packet. */
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  memcpy(ifr.ifr_name, name, sizeof name);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int e = errno;
    close(fd);
    char detail[IFNAMSIZ + 16];
    snprintf(detail, sizeof detail, "TUNSETIFF %s", name[0] ? name : "(any)");
    return gh_throw_errno(env, e, "ioctl", detail);
  }
  napi_value obj, jfd, jname;
  napi_create_object(env, &obj);
  napi_create_int32(env, fd, &jfd);
  ifr.ifr_name[IFNAMSIZ - 1] = '\0';
  napi_create_string_utf8(env, ifr.ifr_name, NAPI_AUTO_LENGTH, &jname);
  napi_set_named_property(env, obj, "fd", jfd);
  napi_set_named_property(env, obj, "name", jname);
  return obj;
}

/* Returns 1 written, 0 dropped for lack of room (EAGAIN/ENOBUFS), -errno on another error. */
static int write_one(int fd, const void *data, size_t len) {
  for (;;) {
    ssize_t n = write(fd, data, len);
    if (n >= 0) return 1;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) return 0;
    return -errno;
  }
}

/* write(fd, packet) -> boolean: true written, false dropped (EAGAIN/ENOBUFS: the kernel queue is
 * full — the caller counts it). Other errors throw with errno/syscall "write". A TUN write is one
 * whole packet; a partial write does not happen. */
static napi_value tun_write(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2) return gh_throw_type(env, "write(fd, packet)");
  int32_t fd;
  void *data;
  size_t len;
  if (!gh_arg_i32(env, argv[0], "fd", &fd)) return NULL;
  if (!gh_arg_bytes(env, argv[1], "packet", &data, &len)) return NULL;
  int r = write_one(fd, data, len);
  if (r < 0) return gh_throw_errno(env, -r, "write", NULL);
  napi_value out;
  napi_get_boolean(env, r == 1, &out);
  return out;
}

/* writeMany(fd, packets: Uint8Array[]) -> number of packets written. One crossing for a batch;
 * stops at the first EAGAIN/ENOBUFS (the rest count as dropped by the caller). Other errors throw
 * with a `written` property. */
static napi_value tun_write_many(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2) return gh_throw_type(env, "writeMany(fd, packets)");
  int32_t fd;
  if (!gh_arg_i32(env, argv[0], "fd", &fd)) return NULL;
  bool is_array;
  if (napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array) return gh_throw_type(env, "packets must be an array");
  uint32_t count;
  napi_get_array_length(env, argv[1], &count);
  uint32_t written = 0;
  for (uint32_t i = 0; i < count; i++) {
    napi_value el;
    void *data;
    size_t len;
    if (napi_get_element(env, argv[1], i, &el) != napi_ok) return NULL;
    if (!gh_arg_bytes(env, el, "packet", &data, &len)) return NULL;
    int r = write_one(fd, data, len);
    if (r == 0) break;
    if (r < 0) {
      napi_value e = gh_make_errno_error(env, -r, "write", NULL), jw;
      if (e == NULL) return NULL;
      napi_create_uint32(env, written, &jw);
      napi_set_named_property(env, e, "written", jw);
      napi_throw(env, e);
      return NULL;
    }
    written++;
  }
  napi_value out;
  napi_create_uint32(env, written, &out);
  return out;
}

/* close(fd): stop any reader on the fd first (the reader thread polls it). */
static napi_value tun_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd;
  if (argc < 1 || !gh_arg_i32(env, argv[0], "fd", &fd)) return NULL;
  /* Linux always releases the fd, even when close() reports EINTR: never retry. */
  if (close(fd) < 0 && errno != EINTR) return gh_throw_errno(env, errno, "close", NULL);
  return NULL;
}

napi_status gh_init_tun(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "openTun", NULL, open_tun, NULL, NULL, NULL, napi_enumerable, NULL },
    { "write", NULL, tun_write, NULL, NULL, NULL, napi_enumerable, NULL },
    { "writeMany", NULL, tun_write_many, NULL, NULL, NULL, napi_enumerable, NULL },
    { "close", NULL, tun_close, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
