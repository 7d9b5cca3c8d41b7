import { createHash, randomBytes } from 'node:crypto';

/** 256 random bits, base64url: state and nonce (RFC 6749 §10.12 asks for ≥ 128). */
export function randomState(): string {
  return randomBytes(32).toString('base64url');
}

/** RFC 7636 §4.1: 43 characters of base64url from 32 random bytes. */
export function randomCodeVerifier(): string {
  return randomBytes(32).toString('base64url');
}

/** RFC 7636 §4.2 S256. */
export function codeChallengeS256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}
