import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, Repository } from 'typeorm';
import { Clock, Page, PageQuery, paginate, returnedRows } from '@ampora/platform';
import { ConfigurationVersionEntity, VersionStatus } from './entities/configuration-version.entity';

export type NewVersion = Pick<
  ConfigurationVersionEntity,
  'tenantId' | 'configurationId' | 'number' | 'yaml' | 'contentHash' | 'configHash' | 'files' | 'findings' | 'errorCount' | 'warningCount' | 'createdBy' | 'sourceRef'
>;

@Injectable()
export class ConfigurationVersionRepository {
  constructor(private readonly clock: Clock, @InjectRepository(ConfigurationVersionEntity) private readonly repo: Repository<ConfigurationVersionEntity>) {}

  private r(manager?: EntityManager): Repository<ConfigurationVersionEntity> {
    return manager ? manager.getRepository(ConfigurationVersionEntity) : this.repo;
  }

  findByNumber(configurationId: string, number: number, manager?: EntityManager): Promise<ConfigurationVersionEntity | null> {
    return this.r(manager).findOne({ where: { configurationId, number } });
  }

  /** The version of a configuration with this content hash: a Published one first, else the newest. */
  findByContentHash(configurationId: string, contentHash: string): Promise<ConfigurationVersionEntity | null> {
    return this.repo
      .createQueryBuilder('v')
      .where('v.configurationId = :configurationId AND v.contentHash = :contentHash', { configurationId, contentHash })
      .orderBy(`CASE WHEN v.status = 'Published' THEN 0 ELSE 1 END`)
      .addOrderBy('v.number', 'DESC')
      .getOne();
  }

  findById(tenantId: string, id: string, manager?: EntityManager): Promise<ConfigurationVersionEntity | null> {
    return this.r(manager).findOne({ where: { tenantId, id } });
  }

  /** Version number and configuration of each id (for showing assignments). */
  async describe(ids: string[], manager?: EntityManager): Promise<Map<string, { configurationId: string; number: number; status: VersionStatus }>> {
    if (ids.length === 0) return new Map();
    const rows = await this.r(manager).find({ where: { id: In([...new Set(ids)]) }, select: { id: true, configurationId: true, number: true, status: true } });
    return new Map(rows.map((r) => [r.id, { configurationId: r.configurationId, number: r.number, status: r.status }]));
  }

  /** The version each config hash is in this tenant (the newest, when several configurations share a text). */
  async byConfigHashes(tenantId: string, hashes: string[]): Promise<Map<string, { versionId: string; configurationId: string; version: number }>> {
    const wanted = [...new Set(hashes.filter((h) => /^[0-9a-f]{64}$/i.test(h)).map((h) => h.toLowerCase()))];
    if (wanted.length === 0) return new Map();
    const rows: Array<{ id: string; configuration_id: string; number: number; config_hash: string }> = await this.r().query(
      `SELECT DISTINCT ON (config_hash) id, configuration_id, number, config_hash FROM configuration_versions
       WHERE tenant_id = $1 AND config_hash = ANY($2::char(64)[]) ORDER BY config_hash, created_at DESC`,
      [tenantId, wanted],
    );
    return new Map(rows.map((r) => [r.config_hash.trim(), { versionId: r.id, configurationId: r.configuration_id, version: r.number }]));
  }

  insert(manager: EntityManager, row: NewVersion): Promise<ConfigurationVersionEntity> {
    const repo = manager.getRepository(ConfigurationVersionEntity);
    return repo.save(repo.create({ ...row, status: 'Draft' }));
  }

  async save(manager: EntityManager, row: ConfigurationVersionEntity): Promise<ConfigurationVersionEntity> {
    row.updatedAt = this.clock.now();
    return manager.getRepository(ConfigurationVersionEntity).save(row);
  }

  /** Highest published version number of each configuration. */
  async latestPublished(configurationIds: string[]): Promise<Map<string, number>> {
    if (configurationIds.length === 0) return new Map();
    const rows: Array<{ configuration_id: string; n: number }> = await this.repo.query(
      `SELECT configuration_id, max(number) AS n FROM configuration_versions WHERE configuration_id = ANY($1::uuid[]) AND status = 'Published' GROUP BY configuration_id`,
      [configurationIds],
    );
    return new Map(rows.map((r) => [r.configuration_id, Number(r.n)]));
  }

  /** How many groups and agents are assigned this version (archiving is refused while any are). */
  async usage(manager: EntityManager, versionId: string): Promise<{ groups: number; agents: number }> {
    const [row] = (await manager.query(
      `SELECT (SELECT count(*) FROM groups WHERE assigned_version_id = $1 AND deleted_at IS NULL) AS groups,
              (SELECT count(*) FROM agents WHERE assigned_version_id = $1) AS agents`,
      [versionId],
    )) as Array<{ groups: string; agents: string }>;
    return { groups: Number(row!.groups), agents: Number(row!.agents) };
  }

  /** How many live groups and agents are assigned a version of this configuration (deleting it is refused while any are). */
  async configurationUsage(manager: EntityManager, configurationId: string): Promise<{ groups: number; agents: number }> {
    const [row] = (await manager.query(
      `SELECT (SELECT count(*) FROM groups g JOIN configuration_versions v ON v.id = g.assigned_version_id WHERE v.configuration_id = $1 AND g.deleted_at IS NULL) AS groups,
              (SELECT count(*) FROM agents a JOIN configuration_versions v ON v.id = a.assigned_version_id WHERE v.configuration_id = $1) AS agents`,
      [configurationId],
    )) as Array<{ groups: string; agents: string }>;
    return { groups: Number(row!.groups), agents: Number(row!.agents) };
  }

  /** Deleted groups assigned a version of this configuration lose that assignment; returns their ids. */
  async releaseFromDeletedGroups(manager: EntityManager, configurationId: string): Promise<string[]> {
    const rows = returnedRows<{ id: string }>(
      await manager.query(
        `UPDATE groups SET assigned_version_id = NULL, assigned_at = NULL, updated_at = now()
         WHERE deleted_at IS NOT NULL AND assigned_version_id IN (SELECT id FROM configuration_versions WHERE configuration_id = $1) RETURNING id`,
        [configurationId],
      ),
    );
    return rows.map((r) => r.id);
  }

  list(configurationId: string, page: PageQuery): Promise<Page<ConfigurationVersionEntity>> {
    const qb = this.repo
      .createQueryBuilder('v')
      .select(['v.id', 'v.configurationId', 'v.number', 'v.status', 'v.contentHash', 'v.configHash', 'v.errorCount', 'v.warningCount', 'v.createdBy', 'v.createdAt', 'v.publishedAt', 'v.archivedAt', 'v.sourceRef'])
      .where('v.configurationId = :configurationId', { configurationId });
    return paginate(qb, { alias: 'v', column: 'number', direction: 'DESC', query: page, key: (r) => r.number });
  }
}
