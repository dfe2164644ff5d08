import { Body, Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { EnrollNodeBody, IdParam, type NodeListResponse, type NodeResponse } from '#api';
import { NodesService } from '#domain';
import { ADMIN_ACTOR, AdminGuard } from '../common/admin.guard.js';
import { parseDto } from '../common/zod-parse.js';
import { toNodeDto } from './nodes.dto.js';

@Controller('v1/nodes')
@UseGuards(AdminGuard)
export class NodesController {
  constructor(private readonly nodes: NodesService) {}

  @Post()
  async enroll(@Body() body: unknown): Promise<NodeResponse> {
    const node = await this.nodes.enroll(parseDto(EnrollNodeBody, body), ADMIN_ACTOR);
    return toNodeDto(node, false);
  }

  @Get()
  async list(): Promise<NodeListResponse> {
    return (await this.nodes.list()).map((n) => toNodeDto(n, this.nodes.isConnected(n.id)));
  }

  @Get(':id')
  async get(@Param('id') id: string): Promise<NodeResponse> {
    const node = await this.nodes.get(parseDto(IdParam, id));
    return toNodeDto(node, this.nodes.isConnected(node.id));
  }

  /** Closes its connection with 4403; revoking a revoked node returns it unchanged. */
  @Post(':id/revoke')
  @HttpCode(200)
  async revoke(@Param('id') id: string): Promise<NodeResponse> {
    return toNodeDto(await this.nodes.revoke(parseDto(IdParam, id), ADMIN_ACTOR), false);
  }

  /** A revoked node becomes active again (it may authenticate again); restoring an active node returns it unchanged. */
  @Post(':id/restore')
  @HttpCode(200)
  async restore(@Param('id') id: string): Promise<NodeResponse> {
    const node = await this.nodes.restore(parseDto(IdParam, id), ADMIN_ACTOR);
    return toNodeDto(node, this.nodes.isConnected(node.id));
  }
}
