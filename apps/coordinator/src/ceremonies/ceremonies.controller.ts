import { Body, Controller, Get, Param, Post, Query, UseGuards } from '@nestjs/common';
import { CeremonyService } from '#domain';
import { ADMIN_ACTOR, AdminGuard } from '../common/admin.guard.js';
import { parseDto } from '../common/zod-parse.js';
import { IdParam } from '../nodes/nodes.dto.js';
import { ListCeremoniesQuery, StartCeremonyDto, toCeremonyDto } from './ceremonies.dto.js';

/** Distributed key generation: the coordinator relays, the participants make the key. */
@Controller('v1/ceremonies')
@UseGuards(AdminGuard)
export class CeremoniesController {
  constructor(private readonly ceremonies: CeremonyService) {}

  /** 201 with the new ceremony; every participant must be enrolled, active and connected. */
  @Post()
  async start(@Body() body: unknown) {
    const dto = parseDto(StartCeremonyDto, body);
    const ceremony = await this.ceremonies.start(
      { suite: dto.suite, threshold: dto.threshold, nodeIds: dto.nodeIds, ...(dto.deadlineMs !== undefined ? { deadlineMs: dto.deadlineMs } : {}) },
      ADMIN_ACTOR,
    );
    return toCeremonyDto(await this.ceremonies.view(ceremony.id));
  }

  @Get()
  async list(@Query() query: unknown) {
    const rows = await this.ceremonies.list(parseDto(ListCeremoniesQuery, query));
    return Promise.all(rows.map(async (c) => toCeremonyDto(await this.ceremonies.view(c.id))));
  }

  @Get(':id')
  async get(@Param('id') id: string) {
    return toCeremonyDto(await this.ceremonies.view(parseDto(IdParam, id)));
  }
}
