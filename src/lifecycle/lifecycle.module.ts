import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ShutdownService } from './shutdown.service';
import { WarmupService } from './warmup.service';

/** Graceful shutdown for both processes (see ShutdownService for the order and FlushOnShutdown) and the api's boot warm-up. */
@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [ShutdownService, WarmupService],
  exports: [ShutdownService, WarmupService],
})
export class LifecycleModule {}
