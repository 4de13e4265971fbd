import type { TraceCarrier } from '@ampora/platform';
import type { ServerToAgent } from '../generated/opamp_pb';
import type { AgentCredential, AttachedAgent, DesiredConfig, MtlsTarget, Transport } from '../ports';
import { ownedBytes, uidToString } from '../protocol/instance-uid';

/** How the core talks back on a live connection (WebSocket); HTTP connections have neither. */
export interface ConnectionHandle {
  readonly id: string;
  readonly transport: Transport;
  send?(message: ServerToAgent): boolean;
  close?(code: number, reason: string): void;
}

/** What this instance knows about one connected agent. */
export class AgentSession {
  readonly agentId: string;
  readonly tenantId: string;
  agentType: string;
  private uid!: Buffer;
  private previous?: Buffer;
  capabilities = 0n;
  lastSeq?: bigint;
  /** Frames received in this session. */
  frames = 0;
  desired?: DesiredConfig;
  /** Pushes that set `desired` in this session (desired configs are shared per hash: an object compare cannot tell a push happened). */
  pushesAccepted = 0;
  failedConfigHash?: string;
  reportedConfigHash?: string;
  reportedStatus?: string;
  offeredHash?: string;
  offeredAt = 0;
  /** The next remote config sent asks for the agent's full state (a forced push: hear what it runs now). */
  askFullState = false;
  /** When each config hash was first pushed, for the push → APPLIED histogram. */
  readonly pushedAt = new Map<string, number>();
  /** The trace context of the latest push of each config hash: the agent's status report continues it. */
  readonly pushTraces = new Map<string, TraceCarrier>();
  /** Messages waiting for the next HTTP poll. */
  readonly outbox: Array<Partial<ServerToAgent>> = [];
  /** Epoch milliseconds of the last frame (set from the Clock at attach and on every frame). */
  lastSeen = 0;
  /** When the credential was last checked against the agent (HTTP sessions re-check it now and then). */
  attachedAt = 0;
  /** Set per connection: the first reply of a connection carries the capabilities and the offers. */
  firstReplyPending = true;
  connectionSettingsHash?: string;
  /** The all-packages hash (hex) last offered on this session (PackagesAvailable). */
  packagesOfferedHash?: string;
  /** Where certificates offered to this agent send it (set by the transport at connection). */
  mtls?: MtlsTarget;
  closed = false;
  /** The fencing token of this instance's lease on the agent, once acquired. */
  fencingToken?: bigint;
  /** A newer session of the agent holds the lease elsewhere: this one must not be pushed to. */
  superseded = false;
  /** A report of this session had strings neutralised and that was logged (once per session). */
  neutralisedLogged = false;

  constructor(
    agent: AttachedAgent,
    readonly credential: AgentCredential,
    readonly transport: Transport,
    public connection: ConnectionHandle | undefined,
  ) {
    this.agentId = agent.agentId;
    this.tenantId = agent.tenantId;
    this.agentType = agent.agentType;
    this.instanceUid = agent.instanceUid;
    this.desired = agent.desired;
    this.failedConfigHash = agent.failedConfigHash;
    this.reportedConfigHash = agent.reportedConfigHash;
  }

  /** The agent's instance uid (kept as a copy of its own: never a view that pins a frame or a pool slab). */
  get instanceUid(): Buffer {
    return this.uid;
  }

  set instanceUid(uid: Buffer) {
    this.uid = ownedBytes(uid);
  }

  /** The uid before the server assigned a new one; frames already in flight may still carry it. */
  get previousUid(): Buffer | undefined {
    return this.previous;
  }

  set previousUid(uid: Buffer | undefined) {
    this.previous = uid && ownedBytes(uid);
  }

  get uidText(): string {
    return uidToString(this.instanceUid);
  }

  /** A stable key for the credential, to check that later HTTP polls present the same one. */
  get credentialKey(): string {
    return credentialKey(this.credential);
  }
}

export function credentialKey(c: AgentCredential): string {
  return c.kind === 'bootstrap' ? `bs:${c.tokenId}` : `cert:${c.fingerprint}`;
}
