/** The lifecycle of a CA signing key, as plain rules (no Nest, no database). */
export type KeyState = 'Draft' | 'Active' | 'Trusted' | 'Retired';

export interface KeyLifecycleView {
  state: KeyState;
  trustedUntil: Date | null;
}

export type TransitionRefusal = { ok: false; code: 'SIGNING_KEY_NOT_DRAFT' | 'SIGNING_KEY_ACTIVE' | 'SIGNING_KEY_RETIRED'; message: string };

/** Only a Draft key can be activated (a Retired key is gone for good; an Active one already is). */
export function canActivate(key: KeyLifecycleView): { ok: true } | TransitionRefusal {
  if (key.state === 'Draft') return { ok: true };
  if (key.state === 'Retired') return { ok: false, code: 'SIGNING_KEY_RETIRED', message: 'a retired key cannot be used again' };
  return { ok: false, code: 'SIGNING_KEY_NOT_DRAFT', message: `only a Draft key can be activated; this key is ${key.state}` };
}

/** Draft and Trusted keys can be retired; the Active key only once another key was activated. */
export function canRetire(key: KeyLifecycleView): { ok: true } | TransitionRefusal {
  if (key.state === 'Active') return { ok: false, code: 'SIGNING_KEY_ACTIVE', message: 'the Active key signs new certificates: activate another key first' };
  if (key.state === 'Retired') return { ok: false, code: 'SIGNING_KEY_RETIRED', message: 'the key is already retired' };
  return { ok: true };
}

/** Whether leaves of this key are accepted: Active, or Trusted and still inside its window. */
export function isTrusted(key: KeyLifecycleView, now: Date): boolean {
  if (key.state === 'Active') return true;
  return key.state === 'Trusted' && key.trustedUntil !== null && key.trustedUntil.getTime() > now.getTime();
}

/** A Trusted key whose window has passed is retired by the maintenance job. */
export function trustWindowOver(key: KeyLifecycleView, now: Date): boolean {
  return key.state === 'Trusted' && key.trustedUntil !== null && key.trustedUntil.getTime() <= now.getTime();
}

export function trustedUntil(now: Date, windowDays: number): Date {
  return new Date(now.getTime() + windowDays * 86_400_000);
}
