import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DemoTokenRequestDto, DemoTokenResponseDto } from './demo-token.dto';
import { TokenVerifierService } from './token-verifier.service';

/** Mints a client token for any user id. Exists only in demo mode (DEMO_MODE=true). */
@ApiTags('demo')
@Controller('v1/demo/token')
export class DemoTokenController {
  constructor(private readonly tokens: TokenVerifierService) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({ summary: 'Mint a client token for any user id (demo mode only)', description: 'What a login would give a mobile app: an HS256 bearer token whose subject is userId, valid for an hour. Exists only when DEMO_MODE=true.' })
  @ApiOkResponse({ type: DemoTokenResponseDto })
  async issue(@Body() body: DemoTokenRequestDto): Promise<DemoTokenResponseDto> {
    return { token: await this.tokens.issue(body.userId) };
  }
}
