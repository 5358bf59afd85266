import { DynamicModule, Module } from '@nestjs/common';
import { CatalogModule } from '../catalog/catalog.module';
import { loadConfig } from '../config/app-config';
import { DemoController } from './demo.controller';
import { DemoPage } from './demo-page';
import { DemoRepository } from './demo.repository';
import { DemoService } from './demo.service';

function demoModeEnabled(env: NodeJS.ProcessEnv): boolean {
  try {
    return loadConfig(env).DEMO_MODE;
  } catch {
    return false; // the config provider reports invalid settings at boot
  }
}

/**
 * The demo page and its endpoints. Registered only when DEMO_MODE=true, so a
 * production api has none of these routes.
 */
@Module({})
export class DemoModule {
  static register(env: NodeJS.ProcessEnv = process.env): DynamicModule {
    if (!demoModeEnabled(env)) return { module: DemoModule };
    return {
      module: DemoModule,
      imports: [CatalogModule],
      controllers: [DemoController],
      providers: [DemoRepository, DemoService, DemoPage],
    };
  }
}
