import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { AppConfig } from '../config/app-config';
import { loggingParams } from './logging.options';

/**
 * Structured JSON logs (nestjs-pino). Import once per process, in its root module;
 * main.ts/worker.ts then route Nest's own Logger through it (`app.useLogger`), so
 * `new Logger(Context)` anywhere writes JSON lines with the current request id.
 */
@Module({})
export class LoggingModule {
  static forProcess(processName: 'api' | 'worker' | 'stream'): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRootAsync({
          inject: [AppConfig],
          useFactory: (config: AppConfig) => loggingParams(config, processName),
        }),
      ],
    };
  }
}
