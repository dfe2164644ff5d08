import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { CreateWebhookBody, IdParam, type CreateWebhookResponse, type WebhookListResponse, type WebhookResponse, type WebhookViewResponse } from '#api';
import { WebhooksService, type Actor } from '#domain';
import { CurrentActor } from '../auth/current-actor.decorator.js';
import { parseDto } from '../common/zod-parse.js';
import { toDeliveryDto, toWebhookDto } from './webhooks.dto.js';

/** Webhook subscriptions. Admin only (no `@Roles`): a webhook's URL and delivery log are operations data. */
@Controller('v1/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  /** 201 with the webhook and its signing secret, which is never shown again. */
  @Post()
  async create(@Body() body: unknown, @CurrentActor() actor: Actor): Promise<CreateWebhookResponse> {
    const webhook = await this.webhooks.create(parseDto(CreateWebhookBody, body), actor);
    return { ...toWebhookDto(webhook), secret: webhook.secret };
  }

  @Get()
  async list(): Promise<WebhookListResponse> {
    return (await this.webhooks.list()).map(toWebhookDto);
  }

  /** The webhook with its latest deliveries (event, attempts, last status, next retry, delivered at). */
  @Get(':id')
  async get(@Param('id') id: string): Promise<WebhookViewResponse> {
    const { webhook, deliveries } = await this.webhooks.get(parseDto(IdParam, id));
    return { ...toWebhookDto(webhook), deliveries: deliveries.map(toDeliveryDto) };
  }

  /** Nothing more is sent to it; the delivery log stays. */
  @Post(':id/disable')
  @HttpCode(200)
  async disable(@Param('id') id: string): Promise<WebhookResponse> {
    return toWebhookDto(await this.webhooks.disable(parseDto(IdParam, id)));
  }
}
