import type { OpenApiDocument } from './openapi-document.js';

const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const pretty = (v: unknown): string => escape(JSON.stringify(v, null, 2));

type Json = Record<string, unknown>;
/** A string or number field of the document as text; anything else as nothing. */
const text = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : fallback);
const asObject = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});

/** `#/components/schemas/X` as a link to X's section. */
const linkRefs = (html: string): string =>
  html.replace(/&#34;\$ref&#34;: &#34;#\/components\/schemas\/([A-Za-z0-9_.-]+)&#34;/g, (_, name: string) => `&#34;$ref&#34;: <a href="#schema-${name}">${name}</a>`);

function operationHtml(method: string, path: string, op: Json): string {
  const params = (op.parameters as Json[] | undefined) ?? [];
  const body = asObject(asObject(asObject(op.requestBody).content)['application/json']).schema;
  const responses = Object.entries(asObject(op.responses)).map(([status, r]) => {
    const content = asObject(asObject(r).content);
    const [mediaType, media] = Object.entries(content)[0] ?? [];
    const schema = asObject(media).schema;
    return `<li><b>${escape(status)}</b> ${escape(text(asObject(r).description))}${mediaType ? ` <code>${escape(mediaType)}</code>` : ''}${
      schema ? `<pre>${linkRefs(pretty(schema))}</pre>` : ''
    }</li>`;
  });
  return `<details id="${escape(text(op.operationId))}"><summary><span class="m ${escape(method)}">${escape(method.toUpperCase())}</span> <code>${escape(path)}</code> ${escape(
    text(op.summary),
  )}</summary>
<p>${escape(text(op.description))}</p>
${params.length ? `<h4>Parameters</h4><ul>${params.map((p) => `<li><code>${escape(text(p.name))}</code> (${escape(text(p.in))}${p.required ? ', required' : ''})<pre>${linkRefs(pretty(p.schema))}</pre></li>`).join('')}</ul>` : ''}
${body ? `<h4>Body</h4><pre>${linkRefs(pretty(body))}</pre>` : ''}
<h4>Responses</h4><ul>${responses.join('')}</ul></details>`;
}

/**
 * `/docs`: the OpenAPI document as one self-contained HTML page, rendered on the server: no script, no
 * stylesheet or font fetched from anywhere (the coordinator may run with no way out to a CDN), every
 * value escaped. Each operation is a <details> with its roles, parameters, body and responses; schemas
 * link to their components.
 */
export function renderDocsPage(doc: OpenApiDocument): string {
  const info = asObject(doc.info);
  const ops = Object.entries(asObject(doc.paths)).flatMap(([path, item]) => Object.entries(asObject(item)).map(([method, op]) => operationHtml(method, path, asObject(op))));
  const schemas = Object.entries(asObject(asObject(doc.components).schemas)).map(([name, s]) => `<details id="schema-${escape(name)}"><summary><code>${escape(name)}</code></summary><pre>${linkRefs(pretty(s))}</pre></details>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(text(info.title, 'API'))} ${escape(text(info.version))}: API reference</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
details{border:1px solid #ddd;border-radius:6px;margin:.4rem 0;padding:.3rem .6rem}
summary{cursor:pointer}pre{background:#f6f6f6;padding:.5rem;overflow:auto;font-size:13px}
.m{display:inline-block;min-width:3.5rem;font-weight:bold}.get{color:#1565c0}.post{color:#2e7d32}
</style></head><body>
<h1>${escape(text(info.title, 'API'))} <small>${escape(text(info.version))}</small></h1>
<p>${escape(text(info.description))}</p>
<p>OpenAPI ${escape(text(doc.openapi))} document: <a href="/openapi.json">/openapi.json</a></p>
<h2>Operations</h2>
${ops.join('\n')}
<h2>Schemas</h2>
${schemas.join('\n')}
</body></html>
`;
}
