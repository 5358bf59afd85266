import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ShutdownService } from './shutdown.service';

/** Graceful shutdown for both processes; see ShutdownService for the order and FlushOnShutdown. */
@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [ShutdownService],
  exports: [ShutdownService],
})
export class LifecycleModule {}
