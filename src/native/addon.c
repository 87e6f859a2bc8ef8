/* Module entry of the gatehouse native addon: TUN attach/write (tun.c), the batching reader
 * (reader.c) and raw IPv4 sockets for GRE (IP protocol 47) and later ESP (50) (rawip.c). */
#include "common.h"

napi_status gh_init_rawip(napi_env env, napi_value exports);

static napi_value init(napi_env env, napi_value exports) {
  if (gh_init_tun(env, exports) != napi_ok) return NULL;
  if (gh_init_reader(env, exports) != napi_ok) return NULL;
  /* Raw sockets read through the same batching reader (read(2) keeps the IPv4 header). */
  if (gh_init_rawip(env, exports) != napi_ok) return NULL;
  napi_value abi;
  napi_create_uint32(env, 1, &abi);
  napi_set_named_property(env, exports, "abiVersion", abi);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
