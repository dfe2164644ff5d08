import { Controller, Get, Header } from '@nestjs/common';
import { Public } from '../auth/roles.js';
import { renderDocsPage } from './docs-page.js';
import { openApiDocument, type OpenApiDocument } from './openapi-document.js';

/** The REST API's version: the `/v1` of its paths. */
export const REST_API_VERSION = '1';

/** The OpenAPI document and its reference page: public, like the API's shape they describe. */
@Controller()
@Public()
export class OpenApiController {
  @Get('openapi.json')
  document(): OpenApiDocument {
    return openApiDocument(REST_API_VERSION);
  }

  @Get('docs')
  @Header('content-type', 'text/html; charset=utf-8')
  // The page has no script and loads nothing: a CSP that says so costs nothing.
  @Header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
  docs(): string {
    return renderDocsPage(openApiDocument(REST_API_VERSION));
  }
}
