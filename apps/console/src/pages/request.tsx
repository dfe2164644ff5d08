import type { ComponentChildren } from 'preact';
import { TERMINAL_REQUEST_STATUSES, type SigningRequestResponse } from '#api';
import { client } from '../api.js';
import { href } from '../router.js';
import { Badge, Countdown, Fields, Hex, Json, Show, ShortId, Time, useLoad } from '../ui.js';

function Decisions({ request }: { request: SigningRequestResponse }) {
  return (
    <table class="list" data-test="decisions">
      <thead>
        <tr>
          <th>Node</th>
          <th>State</th>
          <th>Signed decision</th>
        </tr>
      </thead>
      <tbody>
        {request.decisions.map((d) => (
          <tr key={d.nodeId} data-test="decision-row" data-node={d.label}>
            <td>
              {d.label} <ShortId id={d.nodeId} />
            </td>
            <td>
              <Badge value={d.state} />
              {d.awaiting ? (
                <div class="muted">
                  with its operator since <Time at={d.awaiting.since} />: {d.awaiting.reason}
                  {d.awaiting.rule ? ` (rule ${d.awaiting.rule})` : ''}
                </div>
              ) : null}
            </td>
            <td>
              {d.decision ? (
                <Fields
                  rows={[
                    ['verdict', <strong data-test="verdict">{d.decision.verdict}</strong>],
                    ['by', d.decision.by],
                    ['rule', d.decision.rule ?? '— (no rule matched)'],
                    ['reason', d.decision.reason],
                    ['decided', <Time at={new Date(d.decision.decidedAt).toISOString()} />],
                    ['policy hash', <Hex value={d.decision.policyHash} />],
                    ['intent hash', <Hex value={d.decision.intentHash} />],
                    ['signature', <Hex value={d.decision.signature} />],
                  ]}
                />
              ) : (
                <span class="muted">no decision yet</span>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Attempts({ request }: { request: SigningRequestResponse }) {
  if (request.attempts.length === 0) return <p class="muted">No attempt has started.</p>;
  return (
    <>
      {request.attempts.map((a) => (
        <div key={a.id} class="card" data-test="attempt">
          <h3>
            Attempt {a.seq} <Badge value={a.status} />
          </h3>
          <Fields
            rows={[
              ['id', <code>{a.id}</code>],
              ['participants', a.participants.map((p) => <ShortId key={p} id={p} />)],
              ['started', <Time at={a.startedAt} />],
              ['deadline', <Time at={a.deadline} />],
              ['ended', <Time at={a.endedAt} />],
              ['failure', a.failureReason ?? '—'],
            ]}
          />
          <table class="list compact">
            <thead>
              <tr>
                <th>Identifier</th>
                <th>Hiding commitment</th>
                <th>Binding commitment</th>
              </tr>
            </thead>
            <tbody>
              {a.commitments.map((c) => (
                <tr key={c.identifier}>
                  <td>
                    <Hex value={c.identifier} />
                  </td>
                  <td>
                    <Hex value={c.hiding} />
                  </td>
                  <td>
                    <Hex value={c.binding} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
    </>
  );
}

function Culprits({ request }: { request: SigningRequestResponse }) {
  if (request.culprits.length === 0) return <p class="muted">No node was excluded.</p>;
  const label = (id: string) => request.decisions.find((d) => d.nodeId === id)?.label ?? id.slice(0, 8);
  return (
    <ul data-test="culprits">
      {request.culprits.map((c, i) => (
        <li key={i}>
          <strong>{label(c.nodeId)}</strong>: {c.reason.replace(/_/g, ' ')}
          {c.attemptId ? <> in attempt <ShortId id={c.attemptId} /></> : null}
          {c.detail ? ` (${c.detail})` : ''}
        </li>
      ))}
    </ul>
  );
}

/** One signing request: what it signs (summary and raw), its hashes, each node's decision, its attempts. */
export function RequestPage({ id }: { id: string }) {
  const { data } = useLoad(() => client.call('getSigningRequest', { params: { id } }), `request:${id}`, 3000);
  return (
    <Show data={data}>
      {(r) => {
        const open = !(TERMINAL_REQUEST_STATUSES as readonly string[]).includes(r.status);
        const hashes = r.summaryDetail.hashes;
        return (
          <section data-test="request-page">
            <p>
              <a href={href(['requests'])}>← all requests</a>
            </p>
            <h1>
              {r.summaryDetail.headline} <Badge value={r.status} />
            </h1>
            <Fields
              rows={[
                ['id', <code data-test="request-id">{r.id}</code>],
                ['summary', r.summary],
                ['description', r.description || '—'],
                ['note', r.note || '—'],
                ['key', <code>{r.keyId}</code>],
                ['suite', r.suite],
                ['proposer', r.proposer],
                ['chain', r.chainId ?? '—'],
                ['sequence', r.sequence ?? '—'],
                ['created', <Time at={r.createdAt} />],
                ['deadline', open ? <Countdown deadline={r.deadline} /> : <Time at={r.deadline} />],
                ['completed', <Time at={r.completedAt} />],
              ]}
            />
            {r.failure ? (
              <div class="error">
                <code>{r.failure.code}</code> {r.failure.reason ?? ''}
              </div>
            ) : null}
            <h2>What the nodes are asked to sign</h2>
            {r.summaryDetail.blind ? <p class="warn">A prehashed digest: nothing of its content can be shown.</p> : null}
            <Fields rows={r.summaryDetail.fields.map((f) => [f.label, f.value])} />
            <h3>Hashes</h3>
            <Fields
              rows={[
                ['intent hash', <Hex value={r.intentHash} />],
                ['digest (signed bytes)', <Hex value={r.digest} />],
                ...(hashes.domainSeparator ? ([['EIP-712 domain separator', <Hex value={hashes.domainSeparator} />]] as [string, ComponentChildren][]) : []),
                ...(hashes.structHash ? ([['EIP-712 struct hash', <Hex value={hashes.structHash} />]] as [string, ComponentChildren][]) : []),
              ]}
            />
            <details>
              <summary>Raw payload</summary>
              <Json value={r.payload} />
            </details>
            <details>
              <summary>Canonical intent</summary>
              <Json value={r.intent} />
            </details>
            <h2>Decisions</h2>
            <Decisions request={r} />
            <h2>Attempts</h2>
            <Attempts request={r} />
            <h2>Excluded nodes</h2>
            <Culprits request={r} />
            <h2>Signature</h2>
            {r.signature ? (
              <Fields
                rows={[
                  ['signature', <Hex value={r.signature} />],
                  ['group public key', <Hex value={r.groupPublicKey} />],
                ]}
              />
            ) : (
              <p class="muted">Not signed{open ? ' yet' : ''}.</p>
            )}
          </section>
        );
      }}
    </Show>
  );
}
