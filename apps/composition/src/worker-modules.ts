import { DynamicModule, Type } from '@nestjs/common';
import { QueueWorkerModule } from '@ampora/platform';
import { FleetWorkerModule } from '@ampora/fleet';
import { GovernanceWorkerModule } from '@ampora/governance';
import { PkiWorkerModule } from '@ampora/pki';
import { RolloutsWorkerModule } from '@ampora/rollouts';
import { GitopsWorkerModule } from '@ampora/gitops';
import { FederationWorkerModule } from '@ampora/federation';

/**
 * Everything the worker runs: the job registry check and every domain's *WorkerModule (BullMQ
 * processors). The embedded storage mode runs these inside the server process.
 */
export const WORKER_MODULES: Array<Type | DynamicModule> = [QueueWorkerModule, GovernanceWorkerModule, PkiWorkerModule, FleetWorkerModule, RolloutsWorkerModule, GitopsWorkerModule, FederationWorkerModule];
