// Stable numeric codes shared with the host. The host's names for them live in
// host/core/codes.ts; a test checks both lists agree.

// States, RFC 5798 §6.4 plus Fault (tracked failure; keepalived's FAULT).
export const STATE_INIT: u8 = 0;
export const STATE_BACKUP: u8 = 1;
export const STATE_MASTER: u8 = 2;
export const STATE_FAULT: u8 = 3;

// Why a packet was dropped. 0 is "valid".
export const DROP_NONE: u8 = 0;
export const DROP_TRUNCATED: u8 = 1;          // shorter than the fixed header
export const DROP_IP_VERSION: u8 = 2;         // not IPv4 / IPv6
export const DROP_IP_HEADER: u8 = 3;          // bad IHL, total length or header checksum
export const DROP_IP_PROTO: u8 = 4;           // not protocol 112 (or IPv6 extension headers)
export const DROP_TTL: u8 = 5;                // TTL / hop limit not 255 (RFC 5798 §7.1)
export const DROP_VERSION: u8 = 6;            // VRRP version not 2 or 3
export const DROP_TYPE: u8 = 7;               // type not ADVERTISEMENT (1)
export const DROP_FAMILY: u8 = 8;             // v2 over IPv6
export const DROP_LENGTH: u8 = 9;             // shorter than count x address length (+ auth)
export const DROP_NO_ADDRESSES: u8 = 10;      // count 0
export const DROP_CHECKSUM: u8 = 11;
export const DROP_AUTH_AH: u8 = 12;           // v2 auth type 2 (IP AH): recognised, refused
export const DROP_AUTH_UNKNOWN: u8 = 13;      // v2 auth type > 2
export const DROP_VRID_UNKNOWN: u8 = 14;      // no instance for this VRID on this interface
export const DROP_VERSION_MISMATCH: u8 = 15;  // instance runs the other VRRP version
export const DROP_AUTH_MISMATCH: u8 = 16;     // v2 auth type differs from ours
export const DROP_AUTH_FAIL: u8 = 17;         // v2 password differs
export const DROP_INTERVAL_MISMATCH: u8 = 18; // v2 advert interval differs (RFC 3768 §7.1)
export const DROP_OWN: u8 = 19;               // our own advert looped back
export const DROP_COUNT: i32 = 20;

// Why a state changed.
export const WHY_NONE: u8 = 0;
export const WHY_STARTUP_OWNER: u8 = 1;       // priority 255 at Startup
export const WHY_STARTUP: u8 = 2;             // Startup, not owner
export const WHY_MASTER_DOWN: u8 = 3;         // Master_Down_Timer fired
export const WHY_HIGHER_PRIORITY: u8 = 4;     // advert with higher priority (or equal, higher address)
export const WHY_SHUTDOWN: u8 = 5;
export const WHY_FAULT: u8 = 6;               // a weight-0 track failed
export const WHY_FAULT_CLEARED: u8 = 7;
export const WHY_SYNC_GROUP: u8 = 8;          // a sync-group member moved
export const WHY_PRIORITY_CHANGE: u8 = 9;     // reserved for admin / priority rules

// Action kinds.
export const ACTION_NONE: u8 = 0;
export const ACTION_TRANSITION: u8 = 1;
export const ACTION_SEND: u8 = 2;       // send outBuf[off, off+len) to dst
export const ACTION_VIPS_ADD: u8 = 3;
export const ACTION_VIPS_DEL: u8 = 4;
export const ACTION_ANNOUNCE: u8 = 5;   // gratuitous ARP / unsolicited NA burst for the VIPs

// Per-instance counters.
export const CTR_ADVERTS_SENT: i32 = 0;
export const CTR_ADVERTS_RECEIVED: i32 = 1;
export const CTR_TRANSITIONS: i32 = 2;
export const CTR_BECAME_MASTER: i32 = 3;
export const CTR_PRIO0_SENT: i32 = 4;
export const CTR_PRIO0_RECEIVED: i32 = 5;
export const CTR_ADDR_MISMATCH: i32 = 6;      // RFC 5798 §7.1: log and accept
export const CTR_DROPS: i32 = 7;
export const CTR_COUNT: i32 = 8;
