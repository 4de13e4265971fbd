import { Controller, Delete, Get, Module, Post } from '@nestjs/common';
import { MinRole } from '@ampora/platform';
import { AuditService, Role } from '@ampora/governance';

/** Routes at each role level, used to exercise the guard, the filter and the audit discipline. */
@Controller('api/_probe')
class ProbeController {
  constructor(private readonly audit: AuditService) {}

  @Get('viewer')
  @MinRole(Role.Viewer)
  viewer() {
    return { level: 'viewer' };
  }

  @Post('operator')
  @MinRole(Role.Operator)
  async operator() {
    await this.audit.record(undefined, { entityType: 'Probe', entityId: 'p', action: 'Poked' });
    return { level: 'operator' };
  }

  @Delete('admin')
  @MinRole(Role.Admin)
  async admin() {
    await this.audit.record(undefined, { entityType: 'Probe', entityId: 'p', action: 'Deleted' });
    return { level: 'admin' };
  }

  @Post('no-audit')
  @MinRole(Role.Operator)
  noAudit() {
    return { audited: false };
  }

  @Get('boom')
  @MinRole(Role.Viewer)
  boom(): never {
    throw new Error('database password is hunter2 and it broke');
  }

  @Get('undeclared')
  undeclared() {
    return { open: true };
  }
}

@Module({ controllers: [ProbeController] })
export class ProbeModule {}
