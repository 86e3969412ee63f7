// The Internet checksum (RFC 1071): one's-complement sum of 16-bit big-endian words.
// Sums are kept unfolded in a u32 so a pseudo-header and a message can be added in pieces.

@inline export function sumBytes(ptr: usize, len: i32, acc: u32): u32 {
  let i: i32 = 0;
  // Two words at a time while we can: a u32 load is one instruction and the carry stays in
  // the u64 accumulator, so a 40-byte advert takes ten iterations.
  let wide: u64 = acc;
  while (i + 4 <= len) {
    const w = bswap<u32>(load<u32>(ptr + <usize>i));
    wide += <u64>w;
    i += 4;
  }
  if (i + 2 <= len) {
    wide += <u64>bswap<u16>(load<u16>(ptr + <usize>i));
    i += 2;
  }
  if (i < len) wide += <u64>(<u32>load<u8>(ptr + <usize>i) << 8);
  // Fold the 64-bit sum back to 32 bits without losing carries.
  wide = (wide & 0xffffffff) + (wide >> 32);
  wide = (wide & 0xffffffff) + (wide >> 32);
  return <u32>wide;
}

@inline export function fold(acc: u32): u16 {
  acc = (acc & 0xffff) + (acc >> 16);
  acc = (acc & 0xffff) + (acc >> 16);
  return <u16>(~acc & 0xffff);
}

// RFC 5798 §5.2.8: the v3 checksum covers a pseudo-header (RFC 2460 §8.1 for IPv6, the
// TCP-style one for IPv4) with next header / protocol 112.
export function pseudoHeaderSum(family: u8, src: usize, dst: usize, len: i32, proto: u32): u32 {
  let acc: u32 = 0;
  if (family == 6) {
    acc = sumBytes(src, 16, acc);
    acc = sumBytes(dst, 16, acc);
  } else {
    acc = sumBytes(src, 4, acc);
    acc = sumBytes(dst, 4, acc);
  }
  // Add in 64 bits and fold: the address sum alone can be near 2^32, and a carry dropped here
  // would make a wrong checksum for some sources (31.255.255.200 -> 224.0.0.18 did).
  let w: u64 = <u64>acc + <u64><u32>len + <u64>proto;
  w = (w & 0xffffffff) + (w >> 32);
  return <u32>w;
}
