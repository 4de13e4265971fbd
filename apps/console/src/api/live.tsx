import { createContext, ReactNode, useContext, useEffect, useRef, useState } from 'react';
import { useAuth } from '../auth/auth';
import { LiveEvent, subscribeLive } from './sse';

type Listener = (e: LiveEvent) => void;

interface Live {
  connected: boolean;
  listen(l: Listener): () => void;
}

const LiveContext = createContext<Live>({ connected: false, listen: () => () => undefined });

/** One GET /api/live stream for the whole console; pages listen to the events they care about. */
export function LiveProvider({ children }: { children: ReactNode }) {
  const { credential } = useAuth();
  const [connected, setConnected] = useState(false);
  const listeners = useRef(new Set<Listener>());
  useEffect(() => {
    if (!credential) return;
    const sub = subscribeLive(credential.token, (e) => listeners.current.forEach((l) => l(e)), { onStatus: setConnected });
    return () => sub.close();
  }, [credential]);
  const value = useRef<Live>({ connected: false, listen: (l) => (listeners.current.add(l), () => listeners.current.delete(l)) });
  return <LiveContext.Provider value={{ ...value.current, connected }}>{children}</LiveContext.Provider>;
}

/** Calls `onEvent` for live events whose type starts with one of `prefixes` (latest handler wins). */
export function useLiveEvents(prefixes: string[], onEvent: (e: LiveEvent) => void): void {
  const { listen } = useContext(LiveContext);
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const key = prefixes.join(',');
  useEffect(() => listen((e) => (key.split(',').some((p) => e.type.startsWith(p)) ? handler.current(e) : undefined)), [listen, key]);
}

export function useLiveConnected(): boolean {
  return useContext(LiveContext).connected;
}
