import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PlatformConfig } from '../config/ampora-config';
import { AMPORA_CONFIG } from '../config/config.module';
import { createLogger } from '../logging/logger';
import { CAN_TAKE_ROLE_SQL, setAmbientTenantIsolation, TENANT_ISOLATION_ROLE } from './tenant-isolation';

/**
 * Turns on the ambient tenant limit of operators' requests (decision 0395) once the database says the
 * connecting user can take the isolation role; refuses to start otherwise, unless the operator has
 * turned it off (`AMPORA_TENANT_RLS=false`), which is then said at every start.
 */
@Injectable()
export class TenantIsolationCheck implements OnModuleInit {
  private readonly log = createLogger('Ampora.Platform.Database.TenantIsolation');

  constructor(
    private readonly dataSource: DataSource,
    @Inject(AMPORA_CONFIG) private readonly config: PlatformConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.config.database.tenantIsolation) {
      setAmbientTenantIsolation(false);
      this.log.warn('Row-level tenant isolation of API requests is off (AMPORA_TENANT_RLS=false): tenant walls rest on the queries alone');
      return;
    }
    const [row] = (await this.dataSource.query(CAN_TAKE_ROLE_SQL)) as Array<{ ok: boolean }>;
    if (!row?.ok) {
      throw new Error(
        `Row-level tenant isolation needs the database role ${TENANT_ISOLATION_ROLE}, granted to the application's user; the migration could not create or grant it (no CREATEROLE). ` +
          `Create it (CREATE ROLE ${TENANT_ISOLATION_ROLE} NOLOGIN NOBYPASSRLS) and GRANT ${TENANT_ISOLATION_ROLE} TO <the application user>, then migrate again; or set AMPORA_TENANT_RLS=false knowingly.`,
      );
    }
    setAmbientTenantIsolation(true);
  }
}
