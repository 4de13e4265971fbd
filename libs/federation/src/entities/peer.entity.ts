import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';

export type PeerStatus = 'PendingApproval' | 'Active' | 'Rejected';

/**
 * A federation peer of a tenant (spec §7.2): another Ampora deployment, reached at `endpoint` (its
 * federation listener), trusted by the SHA-256 thumbprint of its federation certificate. The inbound
 * secret is kept as its SHA-256 only; the outbound one, which this side must present, sealed with the
 * master key (context `federation_peers:<id>`) and as its hash (decision 0311). `remoteTenant`: the
 * name of the tenant on the peer that this tenant is paired with.
 */
@Entity({ name: 'federation_peers' })
@Index('ux_federation_peers_tenant_name', ['tenantId', 'name'], { unique: true })
@Index('ix_federation_peers_thumbprint', ['pinnedThumbprint'])
@Check('ck_federation_peers_status', `status IN ('PendingApproval', 'Active', 'Rejected')`)
export class PeerEntity {
  @PrimaryColumn('uuid', { primaryKeyConstraintName: 'pk_federation_peers' })
  id!: string;

  @Column({ type: 'uuid' })
  tenantId!: string;

  @Column({ type: 'varchar', length: 63 })
  name!: string;

  @Column({ type: 'varchar', length: 500 })
  endpoint!: string;

  @Column({ type: 'char', length: 64 })
  pinnedThumbprint!: string;

  @Column({ type: 'text', nullable: true })
  remoteCertificatePem!: string | null;

  @Column({ type: 'varchar', length: 100 })
  remoteTenant!: string;

  @Column({ type: 'char', length: 64 })
  inboundSecretHash!: string;

  @Column({ type: 'char', length: 64 })
  outboundSecretHash!: string;

  @Column({ type: 'bytea' })
  outboundSecretSealed!: Buffer;

  @Column({ type: 'varchar', length: 20 })
  status!: PeerStatus;

  @Column({ type: 'varchar', length: 200 })
  createdBy!: string;

  @Column({ type: 'timestamptz', precision: 3 })
  createdAt!: Date;

  @Column({ type: 'timestamptz', precision: 3 })
  updatedAt!: Date;
}
