/* Error objects with errno + syscall, and argument helpers, for the gatehouse native addon. */
#define _GNU_SOURCE
#include "common.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

napi_value gh_make_errno_error(napi_env env, int err, const char *syscall, const char *detail) {
  char msg[512];
  const char *name = strerrorname_np(err); /* glibc >= 2.32; NULL for unknown values */
  char code_buf[32];
  if (name == NULL) { snprintf(code_buf, sizeof code_buf, "E%d", err); name = code_buf; }
  if (detail != NULL && detail[0] != '\0')
    snprintf(msg, sizeof msg, "%s %s: %s (%s)", syscall, detail, strerror(err), name);
  else
    snprintf(msg, sizeof msg, "%s: %s (%s)", syscall, strerror(err), name);
  napi_value jmsg, jcode, jerr, jerrno, jsys;
  if (napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &jmsg) != napi_ok) return NULL;
  if (napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &jcode) != napi_ok) return NULL;
  if (napi_create_error(env, jcode, jmsg, &jerr) != napi_ok) return NULL;
  if (napi_create_int32(env, err, &jerrno) == napi_ok) napi_set_named_property(env, jerr, "errno", jerrno);
  if (napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &jsys) == napi_ok) napi_set_named_property(env, jerr, "syscall", jsys);
  return jerr;
}

napi_value gh_throw_errno(napi_env env, int err, const char *syscall, const char *detail) {
  napi_value e = gh_make_errno_error(env, err, syscall, detail);
  if (e != NULL) napi_throw(env, e);
  else napi_throw_error(env, NULL, syscall);
  return NULL;
}

napi_value gh_throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return NULL;
}

int gh_arg_i32(napi_env env, napi_value v, const char *what, int32_t *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number || napi_get_value_int32(env, v, out) != napi_ok) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be a number", what);
    gh_throw_type(env, msg);
    return 0;
  }
  return 1;
}

int gh_arg_bytes(napi_env env, napi_value v, const char *what, void **data, size_t *len) {
  bool is;
  if (napi_is_typedarray(env, v, &is) == napi_ok && is) {
    napi_typedarray_type type;
    size_t count, offset;
    napi_value ab;
    if (napi_get_typedarray_info(env, v, &type, &count, data, &ab, &offset) != napi_ok) goto bad;
    size_t elem = 1;
    switch (type) {
      case napi_int16_array: case napi_uint16_array: elem = 2; break;
      case napi_int32_array: case napi_uint32_array: case napi_float32_array: elem = 4; break;
      case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: elem = 8; break;
      default: elem = 1;
    }
    *len = count * elem;
    return 1;
  }
  if (napi_is_dataview(env, v, &is) == napi_ok && is) {
    napi_value ab;
    size_t offset;
    if (napi_get_dataview_info(env, v, len, data, &ab, &offset) != napi_ok) goto bad;
    return 1;
  }
bad:
  {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be a Uint8Array", what);
    gh_throw_type(env, msg);
  }
  return 0;
}
