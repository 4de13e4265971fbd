import type { ApiClient } from '../api';
import { renderRollout, rolloutExitCode, RolloutView } from '../domain/rollout-view';
import { CliError, ExitCode } from '../exit-codes';
import { requireByName } from '../resources';

type Out = (text: string) => void;

export const ROLLOUT_ACTIONS = ['start', 'pause', 'resume', 'advance', 'abort', 'rollback'] as const;
export type RolloutAction = (typeof ROLLOUT_ACTIONS)[number];

const rolloutId = async (api: ApiClient, nameOrId: string) => (await requireByName(api, '/api/rollouts', nameOrId, 'rollout')).id as string;

/** `ampora rollout start|pause|resume|advance|abort|rollback <rollout>`. */
export async function rolloutAction(api: ApiClient, action: RolloutAction, nameOrId: string, out: Out): Promise<void> {
  const r = await api.post(`/api/rollouts/${await rolloutId(api, nameOrId)}/${action}`);
  out(`rollout/${r.name} ${r.state}${r.rollbackId ? ` (rollback ${r.rollbackId})` : ''}${r.warnings?.length ? ` (warnings: ${r.warnings.join(', ')})` : ''}\n`);
}

export interface StatusOptions {
  watch: boolean;
  /** Seconds between reads when no live event came (the live stream wakes it sooner). */
  interval: number;
  /** Give up after this many seconds (0: never). */
  timeout: number;
  /** Redraw in place (a terminal) or append each new picture (a CI log). */
  redraw: boolean;
}

/**
 * `ampora rollout status <rollout> [--watch]`: per-step progress bars and the gate values; with
 * --watch it follows /api/live until the rollout completes, fails, is rolled back or a gate pauses
 * it, and answers that end as the exit code (decision 0351).
 */
export async function rolloutStatus(api: ApiClient, nameOrId: string, o: StatusOptions, out: Out): Promise<number> {
  const id = await rolloutId(api, nameOrId);
  const read = async () => (await api.get(`/api/rollouts/${id}`)) as RolloutView;
  let r = await read();
  let last = '';
  let lines = 0;
  const draw = () => {
    const picture = renderRollout(r, Date.now());
    if (picture === last) return;
    if (o.redraw && lines > 0) out(`\x1b[${lines}A\x1b[J`);
    out(picture);
    last = picture;
    lines = picture.split('\n').length - 1;
  };
  draw();
  if (!o.watch) return ExitCode.Ok;
  const stop = new AbortController();
  let wake: (() => void) | null = null;
  const live = api
    .live(['rollout.*'], (e) => {
      if (!e.entityId || e.entityId === id) wake?.();
    }, stop.signal)
    .catch(() => undefined); // the interval reads keep it going without the stream
  const deadline = o.timeout > 0 ? Date.now() + o.timeout * 1000 : Infinity;
  try {
    for (;;) {
      const code = rolloutExitCode(r);
      if (code !== null) {
        out(`rollout/${r.name} ${r.state}${code === ExitCode.RolloutPausedByGate ? ' by gate ' + r.gate!.gate : ''}\n`);
        return code;
      }
      if (Date.now() > deadline) throw new CliError(`rollout/${r.name} still ${r.state} after ${o.timeout}s`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, o.interval * 1000);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      wake = null;
      r = await read();
      draw();
    }
  } finally {
    stop.abort();
    await live;
  }
}
