import { Injectable } from '@nestjs/common';
import { createLogger, LiveBus, Principal } from '@ampora/platform';
import { AuditService } from '@ampora/governance';
import { FleetEvent, FleetEvents } from '../fleet.events';
import { FleetTransactions } from '../fleet-transactions';
import { FleetErrorCode, FleetException } from '../fleet.errors';
import { ConfigurationRepository } from './configuration.repository';
import { ConfigurationVersionRepository } from './configuration-version.repository';
import { ConfigurationEntity } from './entities/configuration.entity';

function violation(error: unknown): { code?: string; constraint?: string } {
  const e = error as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  return e.driverError ?? e;
}

/**
 * Renaming and deleting configurations (decision 0162). A configuration is deleted with its versions,
 * and only while nothing uses it: no live group and no agent is assigned one of its versions, and no
 * rollout (of any state: rollouts are history) delivered one. Deleted groups, which keep their
 * assignment for a restore, lose it instead.
 */
@Injectable()
export class ConfigurationLifecycleService {
  private readonly log = createLogger('Ampora.Fleet.Configurations.ConfigurationLifecycleService');

  constructor(
    private readonly configurations: ConfigurationRepository,
    private readonly versions: ConfigurationVersionRepository,
    private readonly tx: FleetTransactions,
    private readonly audit: AuditService,
    private readonly bus: LiveBus,
  ) {}

  async update(caller: Principal, id: string, input: { name?: string; description?: string }): Promise<ConfigurationEntity> {
    try {
      return await this.tx.run(async ({ manager }) => {
        const c = await this.configurations.lock(manager, caller.tenantId, id);
        if (!c) throw notFound(id);
        if (c.source === 'git' && input.name !== undefined && input.name !== c.name) {
          throw new FleetException(FleetErrorCode.CONFIGURATION_MANAGED_BY_GIT, `Configuration ${c.name} is managed by GitOps; its name comes from its Git repository`);
        }
        const before = { name: c.name, description: c.description };
        if (input.name !== undefined && input.name !== c.name && (await this.configurations.findByName(caller.tenantId, input.name, manager))) throw nameTaken(input.name);
        const after = { name: input.name ?? c.name, description: input.description ?? c.description };
        const saved = await this.configurations.rename(manager, id, after);
        await this.audit.record(manager, { entityType: 'Configuration', entityId: id, action: 'Updated', before, after });
        return saved;
      });
    } catch (error) {
      const d = violation(error);
      if (d.code === '23505' && d.constraint === 'ux_configurations_tenant_name') throw nameTaken(input.name ?? '');
      throw error;
    }
  }

  async delete(caller: Principal, id: string): Promise<void> {
    await this.tx.run(async ({ manager, afterCommit }) => {
      const c = await this.configurations.lock(manager, caller.tenantId, id);
      if (!c) throw notFound(id);
      const usage = await this.versions.configurationUsage(manager, id);
      if (usage.groups + usage.agents > 0) throw inUse(c, usage);
      const released = await this.versions.releaseFromDeletedGroups(manager, id);
      try {
        await this.configurations.delete(manager, id);
      } catch (error) {
        const d = violation(error);
        // rollouts reference the configuration and its versions (their history)
        if (d.code === '23503') throw inUse(c, { ...usage, rollouts: 1 }, d.constraint);
        throw error;
      }
      await this.audit.record(manager, {
        entityType: 'Configuration',
        entityId: id,
        action: 'Deleted',
        before: { name: c.name, description: c.description, latestVersion: c.latestVersion },
        additional: { releasedDeletedGroups: released },
      });
      afterCommit(() => {
        this.bus.publish<FleetEvent>({ type: FleetEvents.ConfigurationDeleted, tenantId: caller.tenantId, entityId: id, payload: { configurationId: id, name: c.name } });
        this.log.info('Configuration {ConfigurationId} ({Name}) deleted with its {Versions} versions', { ConfigurationId: id, Name: c.name, Versions: c.latestVersion });
      });
    });
  }
}

function notFound(id: string): FleetException {
  return new FleetException(FleetErrorCode.CONFIGURATION_NOT_FOUND, `Configuration ${id} was not found`);
}

function nameTaken(name: string): FleetException {
  return new FleetException(FleetErrorCode.CONFIGURATION_NAME_TAKEN, `A configuration named ${JSON.stringify(name)} already exists`);
}

function inUse(c: ConfigurationEntity, usage: { groups: number; agents: number; rollouts?: number }, constraint?: string): FleetException {
  const what = usage.rollouts ? 'rollouts delivered its versions (rollouts are kept as history)' : `${usage.groups} groups and ${usage.agents} agents are assigned its versions`;
  return new FleetException(FleetErrorCode.CONFIGURATION_IN_USE, `Configuration ${c.name} is in use: ${what}`, {
    groups: usage.groups,
    agents: usage.agents,
    rollouts: usage.rollouts !== undefined && usage.rollouts > 0,
    ...(constraint ? { constraint } : {}),
  });
}
