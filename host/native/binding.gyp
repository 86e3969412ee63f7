{
  "targets": [
    {
      "target_name": "vigil_shim",
      "sources": ["vigil_shim.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-missing-field-initializers", "-O2"],
      "cflags_c": ["-std=gnu11"]
    }
  ]
}
