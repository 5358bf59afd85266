import { Global, Module } from '@nestjs/common';
import { AdminApiKeyGuard } from './admin-api-key.guard';
import { JwtAuthGuard } from './jwt-auth.guard';
import { TokenVerifierService } from './token-verifier.service';

@Global()
@Module({
  providers: [TokenVerifierService, JwtAuthGuard, AdminApiKeyGuard],
  exports: [TokenVerifierService, JwtAuthGuard, AdminApiKeyGuard],
})
export class AuthModule {}
