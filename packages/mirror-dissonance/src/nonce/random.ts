import { randomBytes } from 'node:crypto';

/** A new nonce value: 32 bytes from the OS CSPRNG as 64 lowercase hex. */
export function randomNonceValue(): string {
  return randomBytes(32).toString('hex');
}
