import { Body, Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { IdParam, RegisterKeyBody, type KeyListResponse, type KeyResponse } from '#api';
import { KeysService } from '#domain';
import { ADMIN_ACTOR, AdminGuard } from '../common/admin.guard.js';
import { parseDto } from '../common/zod-parse.js';
import { toKeyDto } from './keys.dto.js';

@Controller('v1/keys')
@UseGuards(AdminGuard)
export class KeysController {
  constructor(private readonly keys: KeysService) {}

  /** Registers a trusted dealer's public package (ceremony keys register themselves: POST /v1/ceremonies). */
  @Post()
  async register(@Body() body: unknown): Promise<KeyResponse> {
    const dto = parseDto(RegisterKeyBody, body);
    const key = await this.keys.register(
      {
        ...(dto.id ? { id: dto.id } : {}),
        publicPackage: {
          suite: dto.suite,
          threshold: dto.threshold,
          maxSigners: dto.maxSigners,
          commitments: dto.commitments,
          verifyingShares: dto.verifyingShares,
        },
        members: dto.members,
        origin: 'dealer',
      },
      ADMIN_ACTOR,
    );
    return toKeyDto(key);
  }

  /** No new signing request may use a retired key (KEY_RETIRED); idempotent. */
  @Post(':id/retire')
  @HttpCode(200)
  async retire(@Param('id') id: string): Promise<KeyResponse> {
    return toKeyDto(await this.keys.retire(parseDto(IdParam, id), ADMIN_ACTOR));
  }

  @Get()
  async list(): Promise<KeyListResponse> {
    return (await this.keys.list()).map(toKeyDto);
  }

  @Get(':id')
  async get(@Param('id') id: string): Promise<KeyResponse> {
    return toKeyDto(await this.keys.get(parseDto(IdParam, id)));
  }
}
