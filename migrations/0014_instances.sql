-- Several coordinator instances on one PostgreSQL (issue 13 §4).
--
-- coordinator_instances: one row per running coordinator process, refreshed by its heartbeat. An instance
-- whose heartbeat is older than the liveness window (COORDINATOR_INSTANCE_TTL_MS) counts as gone: its node
-- connections are not routed to, and the next live instance deletes it with what it held.
CREATE TABLE coordinator_instances (
  id            text        NOT NULL,
  pid           integer     NOT NULL,
  host          text        NOT NULL,
  started_at    timestamptz NOT NULL,
  heartbeat_at  timestamptz NOT NULL,
  CONSTRAINT coordinator_instances_pkey PRIMARY KEY (id)
);

-- Which instance holds each node's live, authenticated WebSocket connection (at most one per node: a newer
-- connection, on any instance, replaces the row). Frames for the node are routed to that instance.
CREATE TABLE node_presence (
  node_id        uuid        NOT NULL,
  instance_id    text        NOT NULL,
  connection_id  text        NOT NULL,
  since          timestamptz NOT NULL,
  CONSTRAINT node_presence_pkey PRIMARY KEY (node_id),
  CONSTRAINT node_presence_node_id_fkey FOREIGN KEY (node_id) REFERENCES nodes (id),
  CONSTRAINT node_presence_instance_id_fkey FOREIGN KEY (instance_id) REFERENCES coordinator_instances (id) ON DELETE CASCADE
);
CREATE INDEX node_presence_instance_id_idx ON node_presence (instance_id);

-- Frames on their way to a node connected to another instance: written in the transaction that decided
-- them (so they leave if and only if it commits), announced with NOTIFY on the holder's channel, and
-- deleted by the holder as it delivers them. `connection_id` is the connection they were meant for: a
-- frame for a connection that has since been replaced is dropped (the new one is asked again).
CREATE TABLE relayed_frames (
  id             bigserial   NOT NULL,
  instance_id    text        NOT NULL,
  node_id        uuid        NOT NULL,
  connection_id  text        NOT NULL,
  body           jsonb       NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT relayed_frames_pkey PRIMARY KEY (id),
  CONSTRAINT relayed_frames_instance_id_fkey FOREIGN KEY (instance_id) REFERENCES coordinator_instances (id) ON DELETE CASCADE
);
CREATE INDEX relayed_frames_instance_id_idx ON relayed_frames (instance_id, id);

-- Which node was asked for a commitment on which of its connections, per open request, until it answers:
-- a node is asked at most once per connection, whichever instance runs the request's event.
CREATE TABLE request_asks (
  request_id     uuid        NOT NULL,
  node_id        uuid        NOT NULL,
  connection_id  text        NOT NULL,
  asked_at       timestamptz NOT NULL,
  CONSTRAINT request_asks_pkey PRIMARY KEY (request_id, node_id),
  CONSTRAINT request_asks_request_id_fkey FOREIGN KEY (request_id) REFERENCES signing_requests (id) ON DELETE CASCADE
);

-- When an open request next needs a look although no frame arrives (ROAST's stagger): any instance's
-- scheduler runs it then, as it runs an open request whose deadline has passed.
ALTER TABLE signing_requests ADD COLUMN wake_at timestamptz;
CREATE INDEX signing_requests_open_due_idx ON signing_requests (deadline, wake_at)
  WHERE status IN ('pending', 'committing', 'signing');
