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

// The buffers sit at the top of the memory, above the heap the stub allocator fills once at
// start (~0.5 MB of 3 MB): as static data they would push that heap up by their 1.3 MB, and
// the fuzz harness restores the memory up to the heap's end after every input. The VRRP
// engine never touches these pages, so they cost it nothing. (test/lb checks the heap ends
// below them.)
const SERVERS32: usize = ((<usize>LB_MAX_SERVERS * 4) + 15) & ~15;
const SERVERS16: usize = ((<usize>LB_MAX_SERVERS * 2) + 15) & ~15;
const OUT16: usize = ((<usize>LB_OUT_CAP * 2) + 15) & ~15;
export const LB_BYTES: usize = 4 * SERVERS32 + SERVERS16 + OUT16;
const lbBase: usize = ((<usize>memory.size() << 16) - LB_BYTES) & ~(<usize>15);

export const lbKeys: usize = lbBase;                        // u32 per server (host: stable key)
export const lbWeights: usize = lbKeys + SERVERS32;         // u32 per server, 0 = no share
export const lbOut: usize = lbWeights + SERVERS32;          // u16 per slot / bucket / entry
// Scratch, reused by each scheduler.
export const lbPicks: usize = lbOut + OUT16;                // u32: slots given so far
export const lbAux: usize = lbPicks + SERVERS32;            // u32: wrr slot counts, Maglev positions
export const lbHeap: usize = lbAux + SERVERS32;             // u16: server indices (a heap; dirty list)
