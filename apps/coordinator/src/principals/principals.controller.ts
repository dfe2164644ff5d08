import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { CreatePrincipalBody, IdParam, type CreatePrincipalResponse, type PrincipalListResponse, type PrincipalResponse } from '#api';
import { PrincipalsService, type Actor } from '#domain';
import { CurrentActor } from '../auth/current-actor.decorator.js';
import { parseDto } from '../common/zod-parse.js';
import { toPrincipalDto } from './principals.dto.js';

/** API principals. Admin only (no `@Roles`): an auditor does not see who holds which key. */
@Controller('v1/principals')
export class PrincipalsController {
  constructor(private readonly principals: PrincipalsService) {}

  /** 201 with the principal and its API key, which is never shown again (only its hash is stored). */
  @Post()
  async create(@Body() body: unknown, @CurrentActor() actor: Actor): Promise<CreatePrincipalResponse> {
    const { principal, apiKey } = await this.principals.create(parseDto(CreatePrincipalBody, body), actor);
    return { ...toPrincipalDto(principal), apiKey };
  }

  @Get()
  async list(): Promise<PrincipalListResponse> {
    return (await this.principals.list()).map(toPrincipalDto);
  }

  @Get(':id')
  async get(@Param('id') id: string): Promise<PrincipalResponse> {
    return toPrincipalDto(await this.principals.get(parseDto(IdParam, id)));
  }

  /** Its key is refused from the next call on; revoking a revoked principal returns it unchanged. */
  @Post(':id/revoke')
  @HttpCode(200)
  async revoke(@Param('id') id: string, @CurrentActor() actor: Actor): Promise<PrincipalResponse> {
    return toPrincipalDto(await this.principals.revoke(parseDto(IdParam, id), actor));
  }
}
