import { Body, Controller, Get, Headers, Param, Post, Query, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { SigningService } from '#domain';
import { ADMIN_ACTOR, AdminGuard } from '../common/admin.guard.js';
import { parseDto } from '../common/zod-parse.js';
import { IdParam } from '../nodes/nodes.dto.js';
import { CreateSigningRequestDto, GetSigningRequestQuery, ListSigningRequestsQuery, toSigningRequestDto } from './signing-requests.dto.js';

@Controller('v1/signing-requests')
@UseGuards(AdminGuard)
export class SigningRequestsController {
  constructor(private readonly signing: SigningService) {}

  /** 201 with the new request; 200 with the original one when an idempotency key is replayed. */
  @Post()
  async create(
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyHeader: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    const dto = parseDto(CreateSigningRequestDto, body);
    const idempotencyKey = dto.idempotencyKey ?? idempotencyHeader;
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

  @Get()
  async list(@Query() query: unknown) {
    const q = parseDto(ListSigningRequestsQuery, query);
    const rows = await this.signing.list(q);
    return Promise.all(rows.map(async (r) => toSigningRequestDto(await this.signing.view(r.id))));
  }

  /** With `?waitMs=N` (at most 60000) answers as soon as the request is final, or after N ms. */
  @Get(':id')
  async get(@Param('id') id: string, @Query() query: unknown) {
    const { waitMs } = parseDto(GetSigningRequestQuery, query);
    const requestId = parseDto(IdParam, id);
    const view = waitMs > 0 ? await this.signing.waitForOutcome(requestId, waitMs) : await this.signing.view(requestId);
    return toSigningRequestDto(view);
  }
}
