{
  "targets": [
    {
      "target_name": "gatehouse_native",
      "sources": [
        "src/native/addon.c",
        "src/native/common.c",
        "src/native/tun.c",
        "src/native/reader.c",
        "src/native/rawip.c"
      ],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-pthread"],
      "ldflags": ["-pthread"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
