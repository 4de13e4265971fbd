import { ChildProcess, fork } from 'node:child_process';

/** A benchmark's helper process, driven over IPC: send a command, wait for the named answer. */
export interface IpcChild {
  child: ChildProcess;
  request<T>(command: Record<string, unknown>, event: string): Promise<T>;
}

/** TypeScript helpers run under ts-node with the repo's path aliases. */
export const TS_EXEC_ARGV = ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register'];

/** Forks `script` (which announces itself with a first message) and resolves once it is ready; `nodeOptions` go before the script (a profiler's flags). */
export function forkIpcChild(script: string, cwd: string, nodeOptions: string[] = []): Promise<IpcChild> {
  const child = fork(script, [], { execArgv: [...nodeOptions, ...TS_EXEC_ARGV], cwd, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const request = <T>(command: Record<string, unknown>, event: string) =>
    new Promise<T>((resolve) => {
      const onMessage = (m: { event: string }) => {
        if (m.event !== event) return;
        child.off('message', onMessage);
        resolve(m as T);
      };
      child.on('message', onMessage);
      child.send(command);
    });
  return new Promise((resolve) => child.once('message', () => resolve({ child, request })));
}
