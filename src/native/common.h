/* Shared helpers of the gatehouse native addon (N-API, Linux): error objects that carry errno and
 * the syscall, and the argument checks every export uses. Plain C against node_api.h. */
#ifndef GATEHOUSE_COMMON_H
#define GATEHOUSE_COMMON_H

#define NAPI_VERSION 8
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

/* Throws a JS Error like Node's own system errors: message "<syscall> <detail>: <strerror>",
 * properties code ("EACCES"), errno (positive number) and syscall. Returns NULL for convenience. */
napi_value gh_throw_errno(napi_env env, int err, const char *syscall, const char *detail);
/* Builds (without throwing) the same error object; NULL on failure. */
napi_value gh_make_errno_error(napi_env env, int err, const char *syscall, const char *detail);
/* Throws a TypeError and returns NULL. */
napi_value gh_throw_type(napi_env env, const char *msg);

/* Reads argument i as an int32; throws TypeError and returns 0 (false) if it is not a number. */
int gh_arg_i32(napi_env env, napi_value v, const char *what, int32_t *out);
/* Gets the bytes of a TypedArray/Buffer/DataView argument (a view; no copy). */
int gh_arg_bytes(napi_env env, napi_value v, const char *what, void **data, size_t *len);

/* Exports of each part (called once from module init). */
napi_status gh_init_tun(napi_env env, napi_value exports);
napi_status gh_init_reader(napi_env env, napi_value exports);

#endif
