// Big-endian access and small memory helpers over raw addresses.

@inline export function rd8(p: usize): u32 { return <u32>load<u8>(p); }
@inline export function rd16(p: usize): u32 { return <u32>bswap<u16>(load<u16>(p)); }
@inline export function wr8(p: usize, v: u32): void { store<u8>(p, <u8>v); }
@inline export function wr16(p: usize, v: u32): void { store<u16>(p, bswap<u16>(<u16>v)); }
@inline export function wr32(p: usize, v: u32): void { store<u32>(p, bswap<u32>(v)); }

export function copy(dst: usize, src: usize, n: i32): void { memory.copy(dst, src, <usize>n); }
export function zero(dst: usize, n: i32): void { memory.fill(dst, 0, <usize>n); }

// Unsigned big-endian comparison, as RFC 5798 §6.4.3 compares primary addresses.
export function compare(a: usize, b: usize, n: i32): i32 {
  for (let i: i32 = 0; i < n; i++) {
    const x = load<u8>(a + <usize>i), y = load<u8>(b + <usize>i);
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

@inline export function addrLen(family: u8): i32 { return family == 6 ? 16 : 4; }
