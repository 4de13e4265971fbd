import { Injectable } from '@nestjs/common';
import { toJson } from '@bufbuild/protobuf';
import { PackageStatusesSchema } from '../../generated/opamp_pb';
import type { AgentReport } from '../../ports';
import type { AgentToServerPartHandler, FrameContext } from '../frame-context';

/** `package_statuses`: stored as reported (Ampora offers no packages yet). */
@Injectable()
export class PackageStatusesHandler implements AgentToServerPartHandler {
  handle({ message, report }: FrameContext): void {
    if (message.packageStatuses) report.packageStatuses = toJson(PackageStatusesSchema, message.packageStatuses) as AgentReport['packageStatuses'];
  }
}
