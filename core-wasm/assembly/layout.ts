// Memory contract with the host (see ../core.wit and ../README.md).
// Every buffer below is a static region of the module's memory: the host writes packets and
// addresses into them and reads results and actions out of them, so no call allocates.

export const IN_SIZE: i32 = 4096;      // one received packet (VRRP payload or whole IP packet)
export const CFG_SIZE: i32 = 4096;     // addresses and secrets the host hands in
export const FRAME_SIZE: i32 = 256;    // one ARP / NA frame the host puts on the wire
export const OUT_SIZE: i32 = 65536;    // encoded adverts referenced by SEND actions
export const ACTION_SIZE: i32 = 32;    // one action record
export const ACTION_CAP: i32 = 1024;   // records per drain
export const INFO_SIZE: i32 = 64;      // the last decoded packet's fields

export const inBuf = memory.data(IN_SIZE, 16);
export const cfgBuf = memory.data(CFG_SIZE, 16);
export const frameBuf = memory.data(FRAME_SIZE, 16);
export const outBuf = memory.data(OUT_SIZE, 16);
export const actionBuf = memory.data(ACTION_SIZE * ACTION_CAP, 16);
export const infoBuf = memory.data(INFO_SIZE, 16);
// The action count as a u32, kept equal to actionCount() on every push and clear: the host reads
// it in place, a call into the module fewer per event.
export const countBuf = memory.data(16, 16);

// Decoded-packet fields (infoBuf). The host writes SRC/DST/TTL itself when it hands in a bare
// VRRP payload (IPv6 raw sockets strip the header; the kernel reports them as ancillary data).
export const INFO_VERSION: i32 = 0;    // u8
export const INFO_TYPE: i32 = 1;       // u8
export const INFO_VRID: i32 = 2;       // u8
export const INFO_PRIORITY: i32 = 3;   // u8
export const INFO_COUNT: i32 = 4;      // u8
export const INFO_AUTH_TYPE: i32 = 5;  // u8 (v2)
export const INFO_FAMILY: i32 = 6;     // u8: 4 or 6
export const INFO_TTL: i32 = 7;        // u8: TTL / hop limit
export const INFO_ADVER_INT: i32 = 8;  // u16: v3 centiseconds, v2 seconds
export const INFO_CHECKSUM: i32 = 10;  // u16: as carried in the packet
export const INFO_CHECKSUM_OK: i32 = 12; // u8: 1 when it verified
export const INFO_DROP: i32 = 13;      // u8: drop reason, 0 = valid
export const INFO_IP_PROTO: i32 = 14;  // u8
export const INFO_VRRP_OFF: i32 = 16;  // u16: offset of the VRRP message in inBuf
export const INFO_VRRP_LEN: i32 = 18;  // u16
export const INFO_ADDR_OFF: i32 = 20;  // u16: offset of the address list in inBuf
export const INFO_AUTH_OFF: i32 = 22;  // u16: offset of v2 auth data in inBuf (0 = none)
export const INFO_SRC: i32 = 24;       // 16 bytes (IPv4 in the first 4)
export const INFO_DST: i32 = 40;       // 16 bytes

// Action records (actionBuf), ACTION_SIZE bytes each.
export const ACT_KIND: i32 = 0;        // u8, see actions.ts
export const ACT_REASON: i32 = 1;      // u8 transition reason
export const ACT_FROM: i32 = 2;        // u8 state
export const ACT_TO: i32 = 3;          // u8 state
export const ACT_INSTANCE: i32 = 4;    // u16 slot
export const ACT_FAMILY: i32 = 6;      // u8
export const ACT_PRIORITY: i32 = 7;    // u8 priority carried by a SEND
export const ACT_OFF: i32 = 8;         // u32 offset into outBuf (SEND)
export const ACT_LEN: i32 = 12;        // u32 length (SEND)
export const ACT_DST: i32 = 16;        // 16 bytes destination (SEND)

// Limits per instance. 20 addresses keep an IPv6 advert well under a 1280-byte MTU.
export const MAX_INSTANCES: i32 = 256;
export const MAX_VIPS: i32 = 20;
export const MAX_PEERS: i32 = 16;
export const MAX_TRACKS: i32 = 32;
export const MAX_GROUPS: i32 = 64;
