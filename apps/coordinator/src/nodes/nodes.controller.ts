import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { EnrollNodeBody, IdParam, type NodeListResponse, type NodeResponse } from '#api';
import { NodesService, type Actor } from '#domain';
import { CurrentActor } from '../auth/current-actor.decorator.js';
import { Roles } from '../auth/roles.js';
import { parseDto } from '../common/zod-parse.js';
import { toNodeDto } from './nodes.dto.js';

/** Writes are admin-only; an auditor reads. */
@Controller('v1/nodes')
export class NodesController {
  constructor(private readonly nodes: NodesService) {}

  @Post()
  async enroll(@Body() body: unknown, @CurrentActor() actor: Actor): Promise<NodeResponse> {
    const node = await this.nodes.enroll(parseDto(EnrollNodeBody, body), actor);
    return toNodeDto(node, false);
  }

  @Get()
  @Roles('auditor')
  async list(): Promise<NodeListResponse> {
    const nodes = await this.nodes.list();
    const connected = await this.nodes.connectedAmong(nodes.map((n) => n.id));
    return nodes.map((n) => toNodeDto(n, connected.has(n.id)));
  }

  @Get(':id')
  @Roles('auditor')
  async get(@Param('id') id: string): Promise<NodeResponse> {
    const node = await this.nodes.get(parseDto(IdParam, id));
    return toNodeDto(node, (await this.nodes.connectedAmong([node.id])).has(node.id));
  }

  /** Closes its connection with 4403; revoking a revoked node returns it unchanged. */
  @Post(':id/revoke')
  @HttpCode(200)
  async revoke(@Param('id') id: string, @CurrentActor() actor: Actor): Promise<NodeResponse> {
    return toNodeDto(await this.nodes.revoke(parseDto(IdParam, id), actor), false);
  }

  /** A revoked node becomes active again (it may authenticate again); restoring an active node returns it unchanged. */
  @Post(':id/restore')
  @HttpCode(200)
  async restore(@Param('id') id: string, @CurrentActor() actor: Actor): Promise<NodeResponse> {
    const node = await this.nodes.restore(parseDto(IdParam, id), actor);
    return toNodeDto(node, (await this.nodes.connectedAmong([node.id])).has(node.id));
  }
}
