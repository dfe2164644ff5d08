import { Body, Controller, Get, Param, Post, Query } from '@nestjs/common';
import { IdParam, ListCeremoniesQuery, StartCeremonyBody, type CeremonyListResponse, type CeremonyResponse } from '#api';
import { CeremonyService, type Actor } from '#domain';
import { CurrentActor } from '../auth/current-actor.decorator.js';
import { Roles } from '../auth/roles.js';
import { parseDto } from '../common/zod-parse.js';
import { toCeremonyDto } from './ceremonies.dto.js';

/** Distributed key generation: the coordinator relays, the participants make the key. Starting is admin-only; an auditor reads. */
@Controller('v1/ceremonies')
export class CeremoniesController {
  constructor(private readonly ceremonies: CeremonyService) {}

  /** 201 with the new ceremony; every participant must be enrolled, active and connected. */
  @Post()
  async start(@Body() body: unknown, @CurrentActor() actor: Actor): Promise<CeremonyResponse> {
    const dto = parseDto(StartCeremonyBody, body);
    const ceremony = await this.ceremonies.start(
      { suite: dto.suite, threshold: dto.threshold, nodeIds: dto.nodeIds, ...(dto.deadlineMs !== undefined ? { deadlineMs: dto.deadlineMs } : {}) },
      actor,
    );
    return toCeremonyDto(await this.ceremonies.view(ceremony.id));
  }

  /** Newest first, in a constant number of reads whatever the page size. */
  @Get()
  @Roles('auditor')
  async list(@Query() query: unknown): Promise<CeremonyListResponse> {
    return (await this.ceremonies.listViews(parseDto(ListCeremoniesQuery, query))).map(toCeremonyDto);
  }

  @Get(':id')
  @Roles('auditor')
  async get(@Param('id') id: string): Promise<CeremonyResponse> {
    return toCeremonyDto(await this.ceremonies.view(parseDto(IdParam, id)));
  }
}
