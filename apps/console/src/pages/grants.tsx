import type { ComponentChildren } from 'preact';
import type { GrantResponse } from '#api';
import { useState } from 'preact/hooks';
import { client } from '../api.js';
import { canWrite, useSession } from '../session.js';
import { Badge, ErrorBox, Fields, Hex, Show, ShortId, Time, duration, useLoad } from '../ui.js';

/** `made / max` as a meter, or the count alone without a limit. */
function Usage({ label, used, max }: { label: string; used: number; max: number | null }) {
  return (
    <div class="usage">
      <span>{label}</span>
      {max === null ? (
        <span>
          {used} <span class="muted">(no limit)</span>
        </span>
      ) : (
        <>
          <meter min={0} max={max} value={used} high={max * 0.8} optimum={0} />
          <span data-test="usage">
            {used} / {max}
          </span>
        </>
      )}
    </div>
  );
}

/** Decimal-string amounts as numbers for a meter (display only; the strings are shown as they are). */
const approx = (s: string): number => Number(s);

function Revoke({ grant, onRevoked }: { grant: GrantResponse; onRevoked: () => void }) {
  const [asking, setAsking] = useState(false);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  if (grant.status !== 'active' && grant.status !== 'proposed') return null;
  const revoke = async () => {
    setBusy(true);
    setError(null);
    try {
      await client.call('revokeGrant', { params: { id: grant.id }, body: reason.trim() ? { reason: reason.trim() } : {} });
      setAsking(false);
      onRevoked();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="revoke">
      {asking ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void revoke();
          }}
        >
          <input placeholder="reason (optional)" value={reason} onInput={(e) => setReason(e.currentTarget.value)} data-test="revoke-reason" />
          <button type="submit" class="danger" disabled={busy} data-test="revoke-confirm">
            Revoke now
          </button>{' '}
          <button type="button" class="link" onClick={() => setAsking(false)}>
            Cancel
          </button>
        </form>
      ) : (
        <button type="button" class="danger" onClick={() => setAsking(true)} data-test="revoke">
          Revoke…
        </button>
      )}
      {error ? <ErrorBox error={error} /> : null}
    </div>
  );
}

function GrantCard({ grant, onChanged }: { grant: GrantResponse; onChanged: () => void }) {
  const session = useSession();
  const u = grant.usage;
  return (
    <article class="card" data-test="grant" data-id={grant.id}>
      <h2>
        {grant.label} <Badge value={grant.status} />
      </h2>
      <div class="grid">
        <div>
          <Fields
            rows={[
              ['id', <code>{grant.id}</code>],
              ['key', <ShortId id={grant.keyId} />],
              ['proposer', grant.proposer],
              ['valid', <>
                <Time at={grant.validAfter} /> → <Time at={grant.validUntil} />
              </>],
              ['approvals', `${grant.approvals.filter((a) => a.state === 'approved').length} of ${grant.threshold} needed (${grant.members} members)`],
              ['grant hash', <Hex value={grant.grantHash} />],
              ...(grant.revokedAt
                ? ([['revoked', <>
                    <Time at={grant.revokedAt} /> by {grant.revokedBy ?? '?'}
                    {grant.revokeReason ? `: ${grant.revokeReason}` : ''}
                  </>]] as [string, ComponentChildren][])
                : []),
            ]}
          />
          <ul class="scope">
            {grant.scopeText.map((line, i) => (
              <li key={i}>{line}</li>
            ))}
          </ul>
        </div>
        <div>
          <h3>Usage against limits</h3>
          <Usage label="requests" used={u.requests.made} max={u.requests.max} />
          {u.rate ? (
            <Usage label={`rate (per ${duration(u.rate.intervalMs)})`} used={u.rate.count} max={u.rate.limit} />
          ) : (
            <div class="usage">
              <span>rate</span>
              <span class="muted">no rate limit</span>
            </div>
          )}
          {u.budgets.map((b) => (
            <div key={`${b.asset}:${b.amountField}`} class="usage">
              <span>
                {b.asset} ({b.amountField}) per {duration(b.periodMs)}
              </span>
              <meter min={0} max={approx(b.amount)} value={approx(b.spent)} />
              <span>
                {b.spent} / {b.amount} {b.started ? '' : '(not started)'}
              </span>
            </div>
          ))}
          {canWrite(session) ? <Revoke grant={grant} onRevoked={onChanged} /> : null}
        </div>
      </div>
    </article>
  );
}

/** Session-key grants with their use against every limit, and (for admins and proposers) a revoke button. */
export function GrantsPage() {
  const { data, reload } = useLoad(() => client.call('listGrants', { query: { limit: 100 } }), 'grants', 10000);
  return (
    <section>
      <h1>Grants</h1>
      <Show data={data}>
        {(grants) =>
          grants.length === 0 ? <p class="muted">No grant.</p> : grants.map((g) => <GrantCard key={g.id} grant={g} onChanged={reload} />)
        }
      </Show>
    </section>
  );
}
