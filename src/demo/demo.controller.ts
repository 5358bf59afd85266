import { Body, Controller, Get, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser } from '../auth/current-user.decorator';
import { JwtAuthGuard } from '../auth/jwt-auth.guard';
import { CreateDemoUserDto, ListDemoUsersQuery, NeighboursQuery } from './demo.dto';
import { DemoService } from './demo.service';

/** Endpoints behind the demo page; the module is registered only when DEMO_MODE=true. */
@ApiTags('demo')
@Controller('v1/demo')
export class DemoController {
  constructor(private readonly demo: DemoService) {}

  @Get('users')
  @ApiOperation({ summary: 'Users to try the demo with', description: "Seeded users with their hidden tastes (which the recommender never sees), and users created on the page." })
  @ApiOkResponse({ description: 'Users', example: { users: [{ id: 'u_0000001', displayName: 'user1', simulated: true, tastes: ['travel'] }] } })
  async listUsers(@Query() query: ListDemoUsersQuery) {
    return { users: await this.demo.listUsers(query.limit) };
  }

  @Post('users')
  @ApiOperation({ summary: 'Create a demo user with no history' })
  @ApiCreatedResponse({ description: 'The new user', example: { id: 'demo_9d41f2cd29', displayName: 'Ana', simulated: false, tastes: [] } })
  createUser(@Body() body: CreateDemoUserDto) {
    return this.demo.createUser(body.displayName.trim());
  }

  @Get('me/neighbours')
  @ApiOperation({ summary: "Videos and categories nearest to the caller's taste embedding" })
  @ApiOkResponse({
    description: 'Nearest videos and categories by cosine similarity',
    example: {
      userId: 'u_0000001',
      hasEmbedding: true,
      videos: [{ videoId: 'v_0000012', title: 'Lisbon in a day #12', category: 'travel', creatorId: 'c_000012', similarity: 0.91 }],
      categories: [{ category: 'travel', similarity: 0.88 }],
    },
  })
  @ApiBearerAuth()
  @UseGuards(JwtAuthGuard)
  neighbours(@CurrentUser() userId: string, @Query() query: NeighboursQuery) {
    return this.demo.neighbours(userId, query.k);
  }

  @Get('status')
  @ApiOperation({ summary: 'Active model and catalog size, for the demo page' })
  @ApiOkResponse({
    description: 'Model and catalog',
    example: { activeModel: { id: 'm-20261203T090032Z-fd9338', activatedAt: '2026-12-03T09:00:37.777Z', metrics: {} }, catalog: { videos: 3000, withEmbedding: 2400 } },
  })
  status() {
    return this.demo.status();
  }
}
