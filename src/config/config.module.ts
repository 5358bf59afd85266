import { Global, Module } from '@nestjs/common';
import { setTimestampWindow } from '../common/validation';
import { AppConfig, loadConfig } from './app-config';

@Global()
@Module({
  providers: [
    {
      provide: AppConfig,
      useFactory: () => {
        const config = loadConfig();
        setTimestampWindow({ minMs: Date.parse(config.TIMESTAMP_MIN), maxSkewMs: config.TIMESTAMP_MAX_SKEW_MS });
        return config;
      },
    },
  ],
  exports: [AppConfig],
})
export class ConfigModule {}
