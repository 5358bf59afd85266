import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';

export class DemoTokenRequestDto {
  @ApiProperty({ example: 'u_42', description: 'Any user id (the token subject); 1-128 chars of A-Z a-z 0-9 _ - . :' })
  @IsString()
  @Matches(/^[A-Za-z0-9_.:-]{1,128}$/, { message: 'userId must be 1-128 chars of A-Z, a-z, 0-9, _, -, . or :' })
  userId: string;
}

export class DemoTokenResponseDto {
  @ApiProperty({ description: 'HS256 bearer token for userId, valid for an hour', example: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1XzQyIiwiaWF0IjoxNzk2Mjg4NTMyLCJleHAiOjE3OTYyOTIxMzJ9.c2lnbmF0dXJl' })
  token: string;
}
