import { client } from '../api.js';
import { Badge, Hex, Show, ShortId, Time, useLoad } from '../ui.js';

/** Threshold keys: suite, t-of-n, group key, members. */
export function KeysPage() {
  const { data } = useLoad(() => client.call('listKeys'), 'keys');
  return (
    <section>
      <h1>Keys</h1>
      <Show data={data}>
        {(keys) =>
          keys.length === 0 ? (
            <p class="muted">No key is registered.</p>
          ) : (
            <table class="list" data-test="keys">
              <thead>
                <tr>
                  <th>Key</th>
                  <th>Suite</th>
                  <th>Threshold</th>
                  <th>Status</th>
                  <th>Origin</th>
                  <th>Group public key</th>
                  <th>Members</th>
                  <th>Created</th>
                </tr>
              </thead>
              <tbody>
                {keys.map((k) => (
                  <tr key={k.id}>
                    <td>
                      <ShortId id={k.id} />
                    </td>
                    <td>{k.suite}</td>
                    <td>
                      {k.threshold} of {k.maxSigners}
                    </td>
                    <td>
                      <Badge value={k.status} />
                    </td>
                    <td>{k.origin}</td>
                    <td>
                      <Hex value={k.groupPublicKey} />
                    </td>
                    <td>
                      {k.members.map((m) => (
                        <ShortId key={m.nodeId} id={m.nodeId} />
                      ))}
                    </td>
                    <td>
                      <Time at={k.createdAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Show>
    </section>
  );
}
