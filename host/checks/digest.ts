// expect.digest of HTTP checks: the response body hashed as it arrives (the whole body, not
// the first BODY_MAX bytes a body regex sees, so the value is what `sha256sum` or keepalived's
// genhash gives for the page). node:crypto is loaded here, in the checker process only: the
// engine parses the digest's text (host/config/values.ts) but never hashes.
import { createHash, type Hash } from 'node:crypto';
import type { BodyDigest as Digest } from '../config/types.ts';

export function bodyHash(d: Digest): Hash {
  return createHash(d.algorithm);
}

// Null when the body's digest is the expected one; else the round's error, both values cut to
// their first 12 hex digits (enough to tell them apart in a log line; /status keeps it short).
export function digestMismatch(d: Digest, h: Hash): string | null {
  const got = h.digest('hex');
  if (got === d.hex) return null;
  return `body digest ${short(d.algorithm, got)} does not match the expected ${short(d.algorithm, d.hex)}`;
}

function short(algorithm: string, hex: string): string {
  return `${algorithm}:${hex.slice(0, 12)}…`;
}
