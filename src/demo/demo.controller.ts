import { Body, Controller, Get, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
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
  async listUsers(@Query() query: ListDemoUsersQuery) {
    return { users: await this.demo.listUsers(query.limit) };
  }

  @Post('users')
  createUser(@Body() body: CreateDemoUserDto) {
    return this.demo.createUser(body.displayName.trim());
  }

  @Get('me/neighbours')
  @ApiBearerAuth()
  @UseGuards(JwtAuthGuard)
  neighbours(@CurrentUser() userId: string, @Query() query: NeighboursQuery) {
    return this.demo.neighbours(userId, query.k);
  }

  @Get('status')
  status() {
    return this.demo.status();
  }
}
