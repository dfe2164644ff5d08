import { client } from '../api.js';
import { useSession } from '../session.js';
import { Badge, Show, Time, useLoad } from '../ui.js';

/** API principals and their keys' fingerprints (admin only: the API refuses anyone else too). */
export function PrincipalsPage() {
  const session = useSession();
  const { data } = useLoad(() => client.call('listPrincipals'), 'principals');
  if (session.role !== 'admin') return <p class="muted">Principals are shown to admins only.</p>;
  return (
    <section>
      <h1>Principals and API keys</h1>
      <p class="muted">Keys are shown once, when created (admin CLI or API); here only their fingerprints.</p>
      <Show data={data}>
        {(rows) => (
          <table class="list" data-test="principals">
            <thead>
              <tr>
                <th>Name</th>
                <th>Role</th>
                <th>Status</th>
                <th>Key fingerprint</th>
                <th>Created</th>
                <th>By</th>
                <th>Revoked</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((p) => (
                <tr key={p.id}>
                  <td>{p.name}</td>
                  <td>{p.role}</td>
                  <td>
                    <Badge value={p.status} />
                  </td>
                  <td>
                    <code>{p.keyFingerprint}</code>
                  </td>
                  <td>
                    <Time at={p.createdAt} />
                  </td>
                  <td>{p.createdBy}</td>
                  <td>
                    <Time at={p.revokedAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Show>
    </section>
  );
}
