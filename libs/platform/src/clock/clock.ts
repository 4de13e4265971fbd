import { RequestContext } from '../context/request-context';

/**
 * The time of the domain. Every service that reads the time or waits for one (lease expiry, gate
 * windows and timeouts, dwell, token and certificate expiry, heartbeat deadlines) asks an injected
 * `Clock` instead of `Date.now()` / `setTimeout`, so tests drive time with `TestClock`
 * (`@ampora/testing`) instead of sleeping. Injected by class: `constructor(private readonly clock: Clock)`.
 */
export abstract class Clock {
  /** Milliseconds since the epoch. */
  abstract nowMs(): number;

  /** Runs `fn` once after `ms`; the handle cancels it. */
  abstract setTimeout(fn: () => void, ms: number): TimerHandle;

  /** Runs `fn` every `ms`; the handle cancels it. */
  abstract setInterval(fn: () => void, ms: number): TimerHandle;

  now(): Date {
    return new Date(this.nowMs());
  }

  /** Resolves after `ms` (at once when `ms` <= 0), or rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        timer.cancel();
        reject(signal!.reason);
      };
      const timer = this.setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, Math.max(0, ms));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** A scheduled callback. `unref` lets the process exit while it is pending (a no-op on test clocks). */
export interface TimerHandle {
  cancel(): void;
  unref(): TimerHandle;
}

/** The real time of the host. */
export class SystemClock extends Clock {
  nowMs(): number {
    return Date.now();
  }

  // a timer's work is the system's, whichever request armed it (decision 0395)
  setTimeout(fn: () => void, ms: number): TimerHandle {
    return nodeTimer(setTimeout(() => RequestContext.detached(fn), ms), clearTimeout);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    return nodeTimer(setInterval(() => RequestContext.detached(fn), ms), clearInterval);
  }
}

function nodeTimer(t: NodeJS.Timeout, clear: (t: NodeJS.Timeout) => void): TimerHandle {
  const handle: TimerHandle = {
    cancel: () => clear(t),
    unref: () => {
      t.unref();
      return handle;
    },
  };
  return handle;
}
