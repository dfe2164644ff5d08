import { Body, Controller, Get, Headers, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import {
  CreateSigningRequestBody,
  GetSigningRequestQuery,
  IdempotencyKey,
  IdParam,
  ListSigningRequestsQuery,
  type SigningRequestListResponse,
  type SigningRequestResponse,
} from '#api';
import { SigningRequestsService } from '#domain';
import { ADMIN_ACTOR, AdminGuard } from '../common/admin.guard.js';
import { parseDto } from '../common/zod-parse.js';
import { toSigningRequestDto } from './signing-requests.dto.js';

@Controller('v1/signing-requests')
@UseGuards(AdminGuard)
export class SigningRequestsController {
  constructor(private readonly signing: SigningRequestsService) {}

  /** 201 with the new request; 200 with the original one when an idempotency key is replayed. */
  @Post()
  async create(
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyHeader: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SigningRequestResponse> {
    const dto = parseDto(CreateSigningRequestBody, body);
    const idempotencyKey = dto.idempotencyKey ?? (idempotencyHeader !== undefined ? parseDto(IdempotencyKey, idempotencyHeader) : undefined);
    const { request, created } = await this.signing.create(
      {
        keyId: dto.keyId,
        message: dto.message,
        encoding: dto.encoding,
        description: dto.description,
        ...(dto.deadline ? { deadline: new Date(dto.deadline) } : {}),
        ...(idempotencyKey ? { idempotencyKey } : {}),
      },
      ADMIN_ACTOR,
    );
    res.status(created ? 201 : 200);
    return toSigningRequestDto(await this.signing.view(request.id));
  }

  /** Newest first, in a constant number of reads whatever the page size. */
  @Get()
  async list(@Query() query: unknown): Promise<SigningRequestListResponse> {
    return (await this.signing.listViews(parseDto(ListSigningRequestsQuery, query))).map(toSigningRequestDto);
  }

  /**
   * With `?waitMs=N` (at most 60000) answers as soon as the request is final, or after N ms. The id is
   * canonical (lower case) from here on, so a long-poll under any spelling wakes when the request settles.
   */
  @Get(':id')
  async get(@Param('id') id: string, @Query() query: unknown): Promise<SigningRequestResponse> {
    const { waitMs } = parseDto(GetSigningRequestQuery, query);
    const requestId = parseDto(IdParam, id);
    const view = waitMs > 0 ? await this.signing.waitForOutcome(requestId, waitMs) : await this.signing.view(requestId);
    return toSigningRequestDto(view);
  }
}
