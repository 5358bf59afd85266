import { Module } from '@nestjs/common';
import { DemoTokenController } from './demo-token.controller';

/** `POST /v1/demo/token`: registered by the api only when DEMO_MODE=true (see optionalApiModules). */
@Module({ controllers: [DemoTokenController] })
export class DemoTokenModule {}
