/* Module entry of the gatehouse native addon: TUN attach/write (tun.c) and the batching reader
 * (reader.c). Raw IP sockets for GRE (IP protocol 47) and ESP (50) will live in raw.c beside them. */
#include "common.h"

static napi_value init(napi_env env, napi_value exports) {
  if (gh_init_tun(env, exports) != napi_ok) return NULL;
  if (gh_init_reader(env, exports) != napi_ok) return NULL;
  /* Place for later: gh_init_raw(env, exports) — socket(AF_INET, SOCK_RAW, 47 or 50), recvmmsg
   * through the same batching reader, sendmsg with IP_PKTINFO. Not built yet. */
  napi_value abi;
  napi_create_uint32(env, 1, &abi);
  napi_set_named_property(env, exports, "abiVersion", abi);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
