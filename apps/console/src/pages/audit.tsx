import { AUDIT_ACTIONS, type AuditEntryResponse, type AuditVerifyResponse } from '#api';
import type { ACTOR_KINDS } from '#api';
import { useState } from 'preact/hooks';
import { ApiError, client } from '../api.js';
import { href } from '../router.js';
import { Badge, ErrorBox, Fields, Hex, Show, ShortId, Time, useLoad } from '../ui.js';

/** The filters the audit list and the export take, as the page's hash query spells them. */
const FILTERS = ['actor', 'action', 'keyId', 'requestId', 'nodeId', 'from', 'to'] as const;
type Filter = (typeof FILTERS)[number];
type Filters = Record<Filter, string>;

const readFilters = (query: URLSearchParams): Filters => Object.fromEntries(FILTERS.map((f) => [f, query.get(f) ?? ''])) as Filters;

/** The actor filter as the API reads it: `kind` or `kind:id` (the id exact). */
function actorQuery(actor: string): { actorKind?: (typeof ACTOR_KINDS)[number]; actorId?: string } {
  const text = actor.trim();
  if (!text) return {};
  const colon = text.indexOf(':');
  const kind = (colon < 0 ? text : text.slice(0, colon)) as (typeof ACTOR_KINDS)[number];
  const id = colon < 0 ? '' : text.slice(colon + 1);
  return { actorKind: kind, ...(id ? { actorId: id } : {}) };
}

/** The API's query from the filters (the list and the export take the same). */
function apiQuery(f: Filters) {
  return {
    ...actorQuery(f.actor),
    ...(f.action ? { action: f.action as (typeof AUDIT_ACTIONS)[number] } : {}),
    ...(f.keyId ? { keyId: f.keyId } : {}),
    ...(f.requestId ? { requestId: f.requestId } : {}),
    ...(f.nodeId ? { nodeId: f.nodeId } : {}),
    ...(f.from ? { from: new Date(f.from).toISOString() } : {}),
    ...(f.to ? { to: new Date(f.to).toISOString() } : {}),
  };
}

const actorText = (e: AuditEntryResponse): string => `${e.actor.kind}:${e.actor.id}`;

function FilterForm({ filters }: { filters: Filters }) {
  const [draft, setDraft] = useState(filters);
  const field = (name: Filter, label: string, type = 'text') => (
    <label>
      {label}
      <input type={type} value={draft[name]} onInput={(e) => setDraft({ ...draft, [name]: e.currentTarget.value })} data-test={`filter-${name}`} />
    </label>
  );
  return (
    <form
      class="filters wide"
      onSubmit={(e) => {
        e.preventDefault();
        location.hash = href(['audit'], draft);
      }}
      data-test="audit-filters"
    >
      {field('actor', 'Actor (kind, or kind:id)')}
      <label>
        Action
        <select value={draft.action} onChange={(e) => setDraft({ ...draft, action: e.currentTarget.value })} data-test="filter-action">
          <option value="">any</option>
          {AUDIT_ACTIONS.map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </select>
      </label>
      {field('keyId', 'Key id')}
      {field('requestId', 'Request id')}
      {field('nodeId', 'Node id')}
      {field('from', 'From', 'datetime-local')}
      {field('to', 'To', 'datetime-local')}
      <button type="submit" data-test="apply-filters">
        Apply
      </button>
      <a href={href(['audit'])}>Clear</a>
    </form>
  );
}

function Entries({ filters }: { filters: Filters }) {
  const [pages, setPages] = useState<number[]>([0]);
  const after = pages[pages.length - 1] ?? 0;
  const key = JSON.stringify([filters, after]);
  const { data } = useLoad(() => client.call('listAuditEntries', { query: { ...apiQuery(filters), after, limit: 100 } }), key);
  return (
    <Show data={data}>
      {(page) => {
        const rows = page.entries;
        return (
          <>
            <table class="list compact" data-test="audit-entries">
              <thead>
                <tr>
                  <th>#</th>
                  <th>When</th>
                  <th>Actor</th>
                  <th>Action</th>
                  <th>Outcome</th>
                  <th>Key / request / node</th>
                  <th>Details</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((e) => (
                  <tr key={e.seq} data-test="audit-row">
                    <td>{e.seq}</td>
                    <td>
                      <Time at={e.occurredAt} />
                    </td>
                    <td>{actorText(e)}</td>
                    <td>
                      <code>{e.action}</code>
                    </td>
                    <td>
                      <Badge value={e.outcome} />
                    </td>
                    <td>
                      {e.keyId ? <ShortId id={e.keyId} /> : null} {e.requestId ? <a href={href(['requests', e.requestId])}><ShortId id={e.requestId} /></a> : null}{' '}
                      {e.nodeId ? <ShortId id={e.nodeId} /> : null}
                    </td>
                    <td class="details">{Object.keys(e.details).length ? JSON.stringify(e.details) : ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {rows.length === 0 ? <p class="muted">No entry matches.</p> : null}
            <div class="pager">
              <button type="button" disabled={pages.length < 2} onClick={() => setPages(pages.slice(0, -1))}>
                ← Previous
              </button>
              <button type="button" disabled={page.nextAfter === null} onClick={() => page.nextAfter !== null && setPages([...pages, page.nextAfter])}>
                Next →
              </button>
            </div>
          </>
        );
      }}
    </Show>
  );
}

/** The latest signed checkpoint with its cosignatures, and each node's standing as a witness. */
function Checkpoint() {
  const checkpoint = useLoad(() => client.call('getAuditCheckpoint'), 'checkpoint', 10000);
  // The witnesses route is new: a coordinator without it (404/501) or an older answer is not an error here.
  const witnesses = useLoad(
    () =>
      client.call('getAuditWitnesses').catch((e: unknown) => {
        if (e instanceof ApiError && (e.status === 404 || e.status === 501 || e.code === 'BAD_RESPONSE')) return null;
        throw e;
      }),
    'witnesses',
    10000,
  );
  return (
    <div class="grid">
      <div class="card" data-test="checkpoint">
        <h2>Checkpoint</h2>
        <Show data={checkpoint.data}>
          {(c) => (
            <>
              <Fields
                rows={[
                  ['origin', <code>{c.origin}</code>],
                  ['tree size', <strong data-test="tree-size">{c.treeSize}</strong>],
                  ['root hash', <Hex value={c.rootHash} />],
                  ['signed', <Time at={c.createdAt} />],
                  ['log key', <code class="hex">{c.logKey.verifierKey}</code>],
                ]}
              />
              <h3>Cosignatures ({c.cosignatures.length})</h3>
              {c.cosignatures.length === 0 ? (
                <p class="muted">No node has cosigned this size yet.</p>
              ) : (
                <ul data-test="cosignatures">
                  {c.cosignatures.map((s) => (
                    <li key={s.nodeId}>
                      <code>{s.keyName}</code> at <Time at={new Date(s.timestamp * 1000).toISOString()} />
                    </li>
                  ))}
                </ul>
              )}
              <details>
                <summary>Signed note</summary>
                <pre class="json">{c.note}</pre>
              </details>
            </>
          )}
        </Show>
      </div>
      <div class="card" data-test="witnesses">
        <h2>Witnesses</h2>
        <Show data={witnesses.data}>
          {(w) =>
            w === null ? (
              <p class="muted">This coordinator does not report witness status yet.</p>
            ) : (
              <table class="list compact">
                <thead>
                  <tr>
                    <th>Node</th>
                    <th>Online</th>
                    <th>Cosigned size</th>
                    <th>Behind</th>
                    <th>Last refusal</th>
                  </tr>
                </thead>
                <tbody>
                  {w.witnesses.map((n) => (
                    <tr key={n.nodeId}>
                      <td>{n.label}</td>
                      <td>{n.connected ? <span class="ok">●</span> : <span class="muted">○</span>}</td>
                      <td>
                        {n.cosignedSize ?? '—'} {n.cosignedAt ? <Time at={n.cosignedAt} /> : null}
                      </td>
                      <td>{n.behind ?? '—'}</td>
                      <td>
                        {n.lastRefusal ? (
                          <span class="bad">
                            <code>{n.lastRefusal.code}</code> at size {n.lastRefusal.treeSize}: {n.lastRefusal.message}
                          </span>
                        ) : (
                          <span class="muted">none</span>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )
          }
        </Show>
      </div>
    </div>
  );
}

function Verify() {
  const [result, setResult] = useState<{ ok: AuditVerifyResponse } | { error: unknown } | null>(null);
  const [busy, setBusy] = useState(false);
  const verify = async () => {
    setBusy(true);
    try {
      setResult({ ok: await client.call('verifyAuditChain') });
    } catch (error) {
      setResult({ error });
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="verify">
      <button type="button" onClick={() => void verify()} disabled={busy} data-test="verify">
        {busy ? 'Verifying…' : 'Verify the hash chain'}
      </button>{' '}
      {result && 'error' in result ? <ErrorBox error={result.error} /> : null}
      {result && 'ok' in result ? (
        result.ok.ok ? (
          <span class="ok" data-test="verify-result">
            ✓ chain intact: {result.ok.checked} entries, head <Hex value={result.ok.headHash} />
          </span>
        ) : (
          <span class="bad" data-test="verify-result">
            ✗ chain broken at entry {result.ok.brokenAt.seq} ({result.ok.brokenAt.reason}) after {result.ok.checked} entries
          </span>
        )
      ) : null}
    </div>
  );
}

/** The audit log: filters, entries, export, the checkpoint and its witnesses, a verify action. */
export function AuditPage({ query }: { query: URLSearchParams }) {
  const filters = readFilters(query);
  const exportQuery = apiQuery(filters);
  return (
    <section>
      <h1>Audit log</h1>
      <Checkpoint />
      <Verify />
      <h2>Entries</h2>
      <FilterForm key={JSON.stringify(filters)} filters={filters} />
      <p class="exports">
        Export the matching entries:{' '}
        <a href={client.url('exportAuditLog', { query: { ...exportQuery, format: 'jsonl' } })} download="audit.jsonl" data-test="export-jsonl">
          JSON lines
        </a>{' '}
        ·{' '}
        <a href={client.url('exportAuditLog', { query: { ...exportQuery, format: 'csv' } })} download="audit.csv" data-test="export-csv">
          CSV
        </a>
      </p>
      <Entries key={JSON.stringify(filters)} filters={filters} />
    </section>
  );
}
