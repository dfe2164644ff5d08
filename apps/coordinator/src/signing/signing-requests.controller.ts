import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import {
  CancelSigningRequestBody,
  CreateSigningRequestBody,
  GetSigningRequestQuery,
  IdempotencyKey,
  IdParam,
  ListSigningRequestsQuery,
  type SigningRequestListResponse,
  type SigningRequestResponse,
} from '#api';
import { SigningRequestsService, SigningService, type Actor } from '#domain';
import { CurrentActor } from '../auth/current-actor.decorator.js';
import { ownRequestsScope, Roles } from '../auth/roles.js';
import { parseDto } from '../common/zod-parse.js';
import { toSigningRequestDto } from './signing-requests.dto.js';

@Controller('v1/signing-requests')
export class SigningRequestsController {
  constructor(
    private readonly signing: SigningRequestsService,
    private readonly sessions: SigningService,
  ) {}

  /**
   * 201 with the new request; 200 with the original one when an idempotency key is replayed. The body's
   * `payload` (or its short form `message` + `encoding`) arrives canonical from the schema.
   */
  @Post()
  @Roles('proposer')
  async create(
    @CurrentActor() actor: Actor,
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyHeader: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SigningRequestResponse> {
    const dto = parseDto(CreateSigningRequestBody, body);
    const idempotencyKey = dto.idempotencyKey ?? (idempotencyHeader !== undefined ? parseDto(IdempotencyKey, idempotencyHeader) : undefined);
    const { request, created } = await this.signing.create(
      {
        keyId: dto.keyId,
        payload: dto.payload,
        description: dto.description,
        note: dto.note,
        ...(dto.chainId !== undefined ? { chainId: dto.chainId } : {}),
        ...(dto.sequence !== undefined ? { sequence: dto.sequence } : {}),
        ...(dto.deadline ? { deadline: new Date(dto.deadline) } : {}),
        ...(idempotencyKey ? { idempotencyKey } : {}),
      },
      actor,
    );
    res.status(created ? 201 : 200);
    return toSigningRequestDto(await this.signing.view(request.id));
  }

  /** Newest first, in a constant number of reads whatever the page size. */
  @Get()
  @Roles('proposer', 'auditor')
  async list(@Query() query: unknown, @CurrentActor() actor: Actor): Promise<SigningRequestListResponse> {
    return (await this.signing.listViews({ ...parseDto(ListSigningRequestsQuery, query), ...ownRequestsScope(actor) })).map((view) => toSigningRequestDto(view));
  }

  /**
   * With `?waitMs=N` (at most 60000) answers as soon as the request is final, or after N ms; with
   * `?safeOwner=0x…` the EVM view also frames the signature for that Safe owner contract. The id is
   * canonical (lower case) from here on, so a long-poll under any spelling wakes when the request settles.
   */
  @Get(':id')
  @Roles('proposer', 'auditor')
  async get(@Param('id') id: string, @Query() query: unknown, @CurrentActor() actor: Actor): Promise<SigningRequestResponse> {
    const { waitMs, safeOwner } = parseDto(GetSigningRequestQuery, query);
    const requestId = parseDto(IdParam, id);
    const view = waitMs > 0 ? await this.signing.waitForOutcome(requestId, waitMs, ownRequestsScope(actor)) : await this.signing.view(requestId, ownRequestsScope(actor));
    return toSigningRequestDto(view, safeOwner !== undefined ? { safeOwner } : {});
  }

  /**
   * Cancels a request that has not finished: 200 with the request, now `cancelled` (its nodes are told,
   * its attempts aborted, its commitments burned); 409 REQUEST_FINISHED when it is already over.
   */
  @Post(':id/cancel')
  @HttpCode(200)
  @Roles('proposer')
  async cancel(@Param('id') id: string, @Body() body: unknown, @CurrentActor() actor: Actor): Promise<SigningRequestResponse> {
    const requestId = parseDto(IdParam, id);
    const { reason } = parseDto(CancelSigningRequestBody, body ?? {});
    await this.sessions.cancel(requestId, { actor, ...ownRequestsScope(actor), ...(reason ? { reason } : {}) });
    return toSigningRequestDto(await this.signing.view(requestId, ownRequestsScope(actor)));
  }
}
