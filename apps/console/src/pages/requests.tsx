import { REQUEST_STATUSES, TERMINAL_REQUEST_STATUSES, type NodeDecisionResponse, type SigningRequestResponse } from '#api';
import { client } from '../api.js';
import { href } from '../router.js';
import { Badge, Countdown, ErrorBox, Show, ShortId, Time, useLoad } from '../ui.js';

const isOpen = (r: SigningRequestResponse): boolean => !(TERMINAL_REQUEST_STATUSES as readonly string[]).includes(r.status);

/** Per node: approved, declined, or still awaiting (asked, or with its operator). */
export function DecisionChips({ decisions }: { decisions: NodeDecisionResponse[] }) {
  return (
    <span class="chips">
      {decisions.map((d) => (
        <span key={d.nodeId} class={`chip chip-${d.state}`} title={`${d.label}: ${d.state.replace(/_/g, ' ')}`} data-test="decision-chip">
          {d.label}: {d.state === 'approved' ? '✓ approved' : d.state === 'declined' ? '✗ declined' : d.state === 'excluded' ? 'excluded' : 'awaiting'}
        </span>
      ))}
    </span>
  );
}

function RequestRows({ rows, open }: { rows: SigningRequestResponse[]; open: boolean }) {
  if (rows.length === 0) return <p class="muted">{open ? 'No request is waiting.' : 'None.'}</p>;
  return (
    <table class="list" data-test={open ? 'open-requests' : 'finished-requests'}>
      <thead>
        <tr>
          <th>Request</th>
          <th>Summary</th>
          <th>Status</th>
          <th>Approvals</th>
          <th>{open ? 'Deadline' : 'Created'}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.id} data-test="request-row" data-id={r.id}>
            <td>
              <a href={href(['requests', r.id])}>
                <ShortId id={r.id} />
              </a>
            </td>
            <td>{r.summary}</td>
            <td>
              <Badge value={r.status} />
            </td>
            <td>
              <DecisionChips decisions={r.decisions} />
            </td>
            <td>{open ? <Countdown deadline={r.deadline} /> : <Time at={r.createdAt} />}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Signing requests: the open ones first (with each node's approval and the time left), then the rest. */
export function RequestsPage({ query }: { query: URLSearchParams }) {
  const status = query.get('status') ?? '';
  const { data, reload, refreshError } = useLoad(
    () => client.call('listSigningRequests', { query: { limit: 100, ...(status ? { status: status as SigningRequestResponse['status'] } : {}) } }),
    `requests:${status}`,
    5000,
  );
  return (
    <section>
      <div class="title-row">
        <h1>Signing requests</h1>
        <form class="filters" onSubmit={(e) => e.preventDefault()}>
          <label>
            Status{' '}
            <select value={status} onChange={(e) => (location.hash = href(['requests'], { status: e.currentTarget.value }))} data-test="status-filter">
              <option value="">any</option>
              {REQUEST_STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
          <button type="button" onClick={reload}>
            Refresh
          </button>
        </form>
      </div>
      {refreshError ? <ErrorBox error={refreshError} /> : null}
      <Show data={data}>
        {(rows) => (
          <>
            <h2>Pending approval and signing</h2>
            <RequestRows rows={rows.filter(isOpen)} open />
            <h2>Finished</h2>
            <RequestRows rows={rows.filter((r) => !isOpen(r))} open={false} />
          </>
        )}
      </Show>
    </section>
  );
}
