// Memory contract of the load balancer's scheduler tables (lb-*.ts): static buffers, so no
// call allocates. The host writes keys and weights, calls lbWrr / lbBuckets / lbMaglev, and
// reads the table of server indices (u16) from lbOut.

export const LB_MAX_SERVERS: i32 = 65535;   // indices fit a u16 (0xffff stays free as "empty")
export const LB_WRR_CAP: i32 = 1024;        // wrr tables past this many slots are scaled down
export const LB_MAX_BUCKETS: i32 = 4096;    // sh / dh: a power of two up to this
export const LB_MAX_MAGLEV: i32 = 65537;    // mh: a prime up to this (Maglev's own default)
// A scaled wrr table has at most LB_WRR_CAP slots plus one per server raised to one slot.
export const LB_OUT_CAP: i32 = LB_WRR_CAP + LB_MAX_SERVERS + 1;

// Return codes below zero.
export const LB_E_SERVERS: i32 = -1;        // count out of 0..LB_MAX_SERVERS
export const LB_E_SIZE: i32 = -2;           // bucket count / Maglev size not allowed

export const lbKeys = memory.data(LB_MAX_SERVERS * 4, 16);     // u32 per server (host: stable key)
export const lbWeights = memory.data(LB_MAX_SERVERS * 4, 16);  // u32 per server, 0 = no share
export const lbOut = memory.data(LB_OUT_CAP * 2, 16);          // u16 per slot / bucket / entry

// Scratch, reused by each scheduler.
export const lbPicks = memory.data(LB_MAX_SERVERS * 4, 16);    // u32: slots given so far
export const lbAux = memory.data(LB_MAX_SERVERS * 4, 16);      // u32: wrr slot counts, Maglev positions
export const lbHeap = memory.data(LB_MAX_SERVERS * 2, 16);     // u16: server indices, a binary heap
