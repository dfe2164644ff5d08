import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  CreateGrantBody,
  CreateGrantRequestBody,
  IdParam,
  ListGrantsQuery,
  RevokeGrantBody,
  type GrantListResponse,
  type GrantResponse,
  type SigningRequestResponse,
} from '#api';
import { GrantRequestsService, GrantsService, SigningRequestsService, type Actor } from '#domain';
import { CurrentActor } from '../auth/current-actor.decorator.js';
import { ownRequestsScope, Public, Roles } from '../auth/roles.js';
import { parseDto } from '../common/zod-parse.js';
import { toSigningRequestDto } from '../signing/signing-requests.dto.js';
import { toGrantDto } from './grants.dto.js';

/**
 * Session-key grants (docs/protocol.md, Grants). A proposer proposes grants and sees and revokes its
 * own; an auditor reads them all; the agent's requests under a grant are public routes, authenticated by
 * the session key's signature over the intent instead of a bearer token.
 */
@Controller('v1/grants')
export class GrantsController {
  constructor(
    private readonly grants: GrantsService,
    private readonly grantRequests: GrantRequestsService,
    private readonly requests: SigningRequestsService,
  ) {}

  /** 201 with the grant, `proposed`: every member node is asked to approve it. */
  @Post()
  @Roles('proposer')
  async create(@CurrentActor() actor: Actor, @Body() body: unknown): Promise<GrantResponse> {
    const dto = parseDto(CreateGrantBody, body);
    const grant = await this.grants.create(
      { keyId: dto.keyId, grantee: dto.grantee, label: dto.label, validUntil: dto.validUntil, scope: dto.scope, ...(dto.validAfter !== undefined ? { validAfter: dto.validAfter } : {}) },
      actor,
    );
    return toGrantDto(await this.grants.view(grant.id));
  }

  @Get()
  @Roles('proposer', 'auditor')
  async list(@Query() query: unknown, @CurrentActor() actor: Actor): Promise<GrantListResponse> {
    return (await this.grants.list({ ...parseDto(ListGrantsQuery, query), ...ownRequestsScope(actor) })).map(toGrantDto);
  }

  @Get(':id')
  @Roles('proposer', 'auditor')
  async get(@Param('id') id: string, @CurrentActor() actor: Actor): Promise<GrantResponse> {
    return toGrantDto(await this.grants.view(parseDto(IdParam, id), ownRequestsScope(actor)));
  }

  /** Revoked at once: requests under it that have not finished are cancelled and the nodes are told. */
  @Post(':id/revoke')
  @HttpCode(200)
  @Roles('proposer')
  async revoke(@Param('id') id: string, @Body() body: unknown, @CurrentActor() actor: Actor): Promise<GrantResponse> {
    const grantId = parseDto(IdParam, id);
    const { reason } = parseDto(RevokeGrantBody, body ?? {});
    await this.grants.revoke(grantId, actor, reason, ownRequestsScope(actor));
    return toGrantDto(await this.grants.view(grantId));
  }

  /** An agent's request under the grant: 201 with the signing request, or a typed refusal (GRANT_REFUSALS). */
  @Post(':id/requests')
  @Public()
  async createRequest(@Param('id') id: string, @Body() body: unknown): Promise<SigningRequestResponse> {
    const grantId = parseDto(IdParam, id);
    const dto = parseDto(CreateGrantRequestBody, body);
    const request = await this.grantRequests.create(grantId, {
      payload: dto.payload,
      description: dto.description,
      note: dto.note,
      authorization: dto.authorization,
      ...(dto.chainId !== undefined ? { chainId: dto.chainId } : {}),
      ...(dto.sequence !== undefined ? { sequence: dto.sequence } : {}),
      ...(dto.deadline ? { deadline: new Date(dto.deadline) } : {}),
    });
    return toSigningRequestDto(await this.requests.view(request.id));
  }
}
