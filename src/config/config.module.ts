import { Global, Module } from '@nestjs/common';
import { setTimestampWindow } from '../common/validation';
import { AppConfig, loadConfig } from './app-config';

/** The api's one timestamp rule takes its window from the configuration (commands that parse before booting call this too). */
export function applyTimestampWindow(config: Pick<AppConfig, 'TIMESTAMP_MIN' | 'TIMESTAMP_MAX_SKEW_MS'>): void {
  setTimestampWindow({ minMs: Date.parse(config.TIMESTAMP_MIN), maxSkewMs: config.TIMESTAMP_MAX_SKEW_MS });
}

@Global()
@Module({
  providers: [
    {
      provide: AppConfig,
      useFactory: () => {
        const config = loadConfig();
        applyTimestampWindow(config);
        return config;
      },
    },
  ],
  exports: [AppConfig],
})
export class ConfigModule {}
