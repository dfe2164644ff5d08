import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { IdParam, RegisterKeyBody, type KeyListResponse, type KeyResponse } from '#api';
import { KeysService, type Actor } from '#domain';
import { CurrentActor } from '../auth/current-actor.decorator.js';
import { Roles } from '../auth/roles.js';
import { parseDto } from '../common/zod-parse.js';
import { toKeyDto } from './keys.dto.js';

/** Writes are admin-only; a proposer (to know what to propose for) and an auditor read. */
@Controller('v1/keys')
export class KeysController {
  constructor(private readonly keys: KeysService) {}

  /** Registers a trusted dealer's public package (ceremony keys register themselves: POST /v1/ceremonies). */
  @Post()
  async register(@Body() body: unknown, @CurrentActor() actor: Actor): Promise<KeyResponse> {
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
      actor,
    );
    return toKeyDto(key);
  }

  /** No new signing request may use a retired key (KEY_RETIRED); idempotent. */
  @Post(':id/retire')
  @HttpCode(200)
  async retire(@Param('id') id: string, @CurrentActor() actor: Actor): Promise<KeyResponse> {
    return toKeyDto(await this.keys.retire(parseDto(IdParam, id), actor));
  }

  @Get()
  @Roles('proposer', 'auditor')
  async list(): Promise<KeyListResponse> {
    return (await this.keys.list()).map(toKeyDto);
  }

  @Get(':id')
  @Roles('proposer', 'auditor')
  async get(@Param('id') id: string): Promise<KeyResponse> {
    return toKeyDto(await this.keys.get(parseDto(IdParam, id)));
  }
}
