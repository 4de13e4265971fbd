/** A bootstrap token is expired from its `expiresAt` on (the instant itself included). */
export function bootstrapTokenExpired(token: { expiresAt: Date }, now: number): boolean {
  return token.expiresAt.getTime() <= now;
}

/** When a token issued at `now` for `ttlMinutes` expires. */
export function bootstrapTokenExpiry(now: number, ttlMinutes: number): Date {
  return new Date(now + ttlMinutes * 60_000);
}
