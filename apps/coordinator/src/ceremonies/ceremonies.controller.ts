import { Body, Controller, Get, Param, Post, Query, UseGuards } from '@nestjs/common';
import { IdParam, ListCeremoniesQuery, StartCeremonyBody, type CeremonyListResponse, type CeremonyResponse } from '#api';
import { CeremonyService } from '#domain';
import { ADMIN_ACTOR, AdminGuard } from '../common/admin.guard.js';
import { parseDto } from '../common/zod-parse.js';
import { toCeremonyDto } from './ceremonies.dto.js';

/** Distributed key generation: the coordinator relays, the participants make the key. */
@Controller('v1/ceremonies')
@UseGuards(AdminGuard)
export class CeremoniesController {
  constructor(private readonly ceremonies: CeremonyService) {}

  /** 201 with the new ceremony; every participant must be enrolled, active and connected. */
  @Post()
  async start(@Body() body: unknown): Promise<CeremonyResponse> {
    const dto = parseDto(StartCeremonyBody, body);
    const ceremony = await this.ceremonies.start(
      { suite: dto.suite, threshold: dto.threshold, nodeIds: dto.nodeIds, ...(dto.deadlineMs !== undefined ? { deadlineMs: dto.deadlineMs } : {}) },
      ADMIN_ACTOR,
    );
    return toCeremonyDto(await this.ceremonies.view(ceremony.id));
  }

  /** Newest first, in a constant number of reads whatever the page size. */
  @Get()
  async list(@Query() query: unknown): Promise<CeremonyListResponse> {
    return (await this.ceremonies.listViews(parseDto(ListCeremoniesQuery, query))).map(toCeremonyDto);
  }

  @Get(':id')
  async get(@Param('id') id: string): Promise<CeremonyResponse> {
    return toCeremonyDto(await this.ceremonies.view(parseDto(IdParam, id)));
  }
}
