import { Body, Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { NodesService } from '#domain';
import { ADMIN_ACTOR, AdminGuard } from '../common/admin.guard.js';
import { parseDto } from '../common/zod-parse.js';
import { EnrollNodeDto, IdParam, toNodeDto } from './nodes.dto.js';

@Controller('v1/nodes')
@UseGuards(AdminGuard)
export class NodesController {
  constructor(private readonly nodes: NodesService) {}

  @Post()
  async enroll(@Body() body: unknown) {
    const node = await this.nodes.enroll(parseDto(EnrollNodeDto, body), ADMIN_ACTOR);
    return toNodeDto(node, false);
  }

  @Get()
  async list() {
    return (await this.nodes.list()).map((n) => toNodeDto(n, this.nodes.isConnected(n.id)));
  }

  @Get(':id')
  async get(@Param('id') id: string) {
    const node = await this.nodes.get(parseDto(IdParam, id));
    return toNodeDto(node, this.nodes.isConnected(node.id));
  }

  @Post(':id/revoke')
  @HttpCode(200)
  async revoke(@Param('id') id: string) {
    return toNodeDto(await this.nodes.revoke(parseDto(IdParam, id), ADMIN_ACTOR), false);
  }
}
