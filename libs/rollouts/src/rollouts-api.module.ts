import { Module } from '@nestjs/common';
import { RolloutsController } from './rollouts.controller';
import { RolloutsModule } from './rollouts.module';

@Module({ imports: [RolloutsModule], controllers: [RolloutsController] })
export class RolloutsApiModule {}
