{
  "targets": [
    {
      "target_name": "vigil_shim",
      "sources": ["shim.c", "socket.c", "poll.c", "process.c", "memory.c", "bpf.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-missing-field-initializers", "-O2"],
      "cflags_c": ["-std=gnu11"]
    }
  ]
}
