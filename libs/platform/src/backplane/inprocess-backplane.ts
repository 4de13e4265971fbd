import { PlatformConfig } from '../config/ampora-config';
import { Backplane } from './backplane';

/** The members of each namespace in this process. */
const hubs = new Map<string, Set<InProcessBackplane>>();

/**
 * One process: messages are handed to the backplanes of this process with the same namespace (the
 * Redis prefix), on a later turn of the event loop and serialized like the networked transports.
 * Two applications in one process (server and worker in embedded mode) therefore reach each other.
 */
export class InProcessBackplane extends Backplane {
  readonly kind = 'inprocess' as const;
  private readonly namespace: string;

  constructor(config: PlatformConfig) {
    super(config, 'Ampora.Platform.Backplane.InProcess');
    this.namespace = config.redis.keyPrefix;
  }

  async start(): Promise<void> {
    let hub = hubs.get(this.namespace);
    if (!hub) hubs.set(this.namespace, (hub = new Set()));
    hub.add(this);
  }

  async stop(): Promise<void> {
    const hub = hubs.get(this.namespace);
    hub?.delete(this);
    if (hub?.size === 0) hubs.delete(this.namespace);
  }

  protected async transmit(instanceId: string | null, data: string): Promise<void> {
    for (const member of hubs.get(this.namespace) ?? []) {
      if (instanceId !== null && member.instanceId !== instanceId) continue;
      setImmediate(() => member.receive(data, instanceId !== null));
    }
  }
}
