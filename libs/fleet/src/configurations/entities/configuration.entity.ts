import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type ConfigurationSource = 'api' | 'git';

/** A named container of configuration versions (unique per tenant). */
@Entity({ name: 'configurations' })
@Index('ux_configurations_tenant_name', ['tenantId', 'name'], { unique: true })
@Index('ix_configurations_tenant_created', ['tenantId', 'createdAt', 'id'])
@Check('ck_configurations_source', `source IN ('api', 'git')`)
export class ConfigurationEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_configurations' })
  id!: string;

  @Column({ type: 'uuid' })
  tenantId!: string;


  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'text', default: '' })
  description!: string;

  @Column({ type: 'varchar', length: 8, default: 'api' })
  source!: ConfigurationSource;

  /** The highest version number issued so far (versions are numbered 1, 2, ... per configuration). */
  @Column({ type: 'integer', default: 0 })
  latestVersion!: number;

  @Column({ type: 'varchar', length: 200 })
  createdBy!: string;

  @Column({ type: 'timestamptz', precision: 3, default: () => 'now()' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', precision: 3, default: () => 'now()' })
  updatedAt!: Date;
}
