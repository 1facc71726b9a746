/**
 * The schema of the durable stores: ONE ordered list of migrations for both engines. Each entry is
 * one version, written once per engine side by side (PostgreSQL's DDL and SQLite's differ in types,
 * serial columns, ALTER TABLE and index syntax); the stores' statements themselves are shared. Append
 * only: a migration that has shipped is never edited; a change is a new entry with both texts.
 * `{schema}` stands for the quoted schema the tables live in (embedded: the attached file's name).
 *
 * SQLite types: timestamps are ISO-8601 UTC text with milliseconds (`timestamptz`, compared as
 * text), JSON is text declared `jsontext` (the engine parses it on read), booleans are 0/1 declared
 * `boolean`. The SQLite texts were written when the embedded engine became SQLite: its version 1
 * already holds the outbox columns PostgreSQL's version 2 adds (no SQLite database at version 1 ever
 * existed), and both engines end at the same tables, columns and indexes.
 *
 * Applied by `openDatabase` in one transaction, each version recorded in `schema_migrations`
 * (on PostgreSQL under an advisory lock, so two replicas starting together do not race).
 */
export interface Migration {
  postgres: string;
  sqlite: string;
}

export const MIGRATIONS: readonly Migration[] = [
  // 1: identity map, idempotency records, outbox.
  {
    postgres: `
  CREATE TABLE {schema}.identity_records (
    id          text PRIMARY KEY,
    view        jsonb NOT NULL DEFAULT '{}'::jsonb,
    records     jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- The keys this record holds (kind -> value), as the matching rule reads them.
    keys        jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
  );

  -- The index: one owner per (kind, value). The primary key is what makes claim atomic.
  CREATE TABLE {schema}.identity_keys (
    kind       text NOT NULL,
    value      text NOT NULL,
    record_id  text NOT NULL REFERENCES {schema}.identity_records (id) ON DELETE CASCADE,
    PRIMARY KEY (kind, value)
  );
  CREATE INDEX identity_keys_record_idx ON {schema}.identity_keys (record_id);

  CREATE TABLE {schema}.idempotency_keys (
    key          text PRIMARY KEY,
    fingerprint  text NOT NULL,
    completed    boolean NOT NULL DEFAULT false,
    result       jsonb,
    reserved_at  timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
  );
  CREATE INDEX idempotency_keys_expires_idx ON {schema}.idempotency_keys (expires_at);

  CREATE TABLE {schema}.outbox (
    seq              bigserial UNIQUE,
    id               text PRIMARY KEY,
    provider         text NOT NULL,
    kind             text NOT NULL,
    gateway_id       text NOT NULL,
    item             jsonb NOT NULL,
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,
    leased_until     timestamptz,
    last_error       jsonb,
    created_at       timestamptz NOT NULL
  );
  CREATE INDEX outbox_due_idx ON {schema}.outbox (next_attempt_at, seq);
  CREATE INDEX outbox_created_idx ON {schema}.outbox (created_at, seq);
  `,
    sqlite: `
  CREATE TABLE {schema}.identity_records (
    id          text PRIMARY KEY,
    view        jsontext NOT NULL DEFAULT '{}',
    records     jsontext NOT NULL DEFAULT '{}',
    keys        jsontext NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
  );
  CREATE TABLE {schema}.identity_keys (
    kind       text NOT NULL,
    value      text NOT NULL,
    record_id  text NOT NULL REFERENCES identity_records (id) ON DELETE CASCADE,
    PRIMARY KEY (kind, value)
  ) WITHOUT ROWID;
  CREATE INDEX {schema}.identity_keys_record_idx ON identity_keys (record_id);

  CREATE TABLE {schema}.idempotency_keys (
    key          text PRIMARY KEY,
    fingerprint  text NOT NULL,
    completed    boolean NOT NULL DEFAULT false,
    result       jsontext,
    reserved_at  timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
  );
  CREATE INDEX {schema}.idempotency_keys_expires_idx ON idempotency_keys (expires_at);

  CREATE TABLE {schema}.outbox (
    seq              integer PRIMARY KEY AUTOINCREMENT,
    id               text NOT NULL UNIQUE,
    provider         text NOT NULL,
    kind             text NOT NULL,
    gateway_id       text NOT NULL,
    item             jsontext NOT NULL,
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,
    leased_until     timestamptz,
    last_error       jsontext,
    created_at       timestamptz NOT NULL,
    status           text NOT NULL DEFAULT 'QUEUED',
    updated_at       timestamptz NOT NULL,
    ended_at         timestamptz,
    remote_id        text,
    import_id        text
  );
  CREATE INDEX {schema}.outbox_due_idx ON outbox (next_attempt_at, seq) WHERE ended_at IS NULL;
  CREATE INDEX {schema}.outbox_created_idx ON outbox (created_at, seq);
  CREATE INDEX {schema}.outbox_updated_idx ON outbox (updated_at);
  CREATE INDEX {schema}.outbox_ended_idx ON outbox (ended_at) WHERE ended_at IS NOT NULL;
  `,
  },
  // 2: the write history (outbox rows stay after they end), background jobs (webhook events,
  // async batches) and async batches with their items.
  {
    postgres: `
  ALTER TABLE {schema}.outbox
    ADD COLUMN status     text NOT NULL DEFAULT 'QUEUED',
    ADD COLUMN updated_at timestamptz,
    ADD COLUMN ended_at   timestamptz,
    ADD COLUMN remote_id  text,
    ADD COLUMN import_id  text;
  UPDATE {schema}.outbox SET updated_at = created_at;
  ALTER TABLE {schema}.outbox ALTER COLUMN updated_at SET NOT NULL;
  DROP INDEX {schema}.outbox_due_idx;
  CREATE INDEX outbox_due_idx ON {schema}.outbox (next_attempt_at, seq) WHERE ended_at IS NULL;
  CREATE INDEX outbox_updated_idx ON {schema}.outbox (updated_at);
  CREATE INDEX outbox_ended_idx ON {schema}.outbox (ended_at) WHERE ended_at IS NOT NULL;

  CREATE TABLE {schema}.jobs (
    seq              bigserial UNIQUE,
    id               text PRIMARY KEY,
    type             text NOT NULL,
    payload          jsonb NOT NULL,
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,
    leased_until     timestamptz,
    last_error       text,
    created_at       timestamptz NOT NULL,
    done_at          timestamptz
  );
  CREATE INDEX jobs_due_idx ON {schema}.jobs (next_attempt_at, seq) WHERE done_at IS NULL;
  CREATE INDEX jobs_done_idx ON {schema}.jobs (done_at) WHERE done_at IS NOT NULL;

  CREATE TABLE {schema}.batches (
    id            text PRIMARY KEY,
    status        text NOT NULL,
    options       jsonb NOT NULL,
    total         integer NOT NULL,
    created_at    timestamptz NOT NULL,
    completed_at  timestamptz
  );
  CREATE TABLE {schema}.batch_items (
    batch_id    text NOT NULL REFERENCES {schema}.batches (id) ON DELETE CASCADE,
    idx         integer NOT NULL,
    input       jsonb,
    contact_id  text,
    result      jsonb,
    succeeded   boolean,
    PRIMARY KEY (batch_id, idx)
  );
  `,
    sqlite: `
  CREATE TABLE {schema}.jobs (
    seq              integer PRIMARY KEY AUTOINCREMENT,
    id               text NOT NULL UNIQUE,
    type             text NOT NULL,
    payload          jsontext NOT NULL,
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,
    leased_until     timestamptz,
    last_error       text,
    created_at       timestamptz NOT NULL,
    done_at          timestamptz
  );
  CREATE INDEX {schema}.jobs_due_idx ON jobs (next_attempt_at, seq) WHERE done_at IS NULL;
  CREATE INDEX {schema}.jobs_done_idx ON jobs (done_at) WHERE done_at IS NOT NULL;

  CREATE TABLE {schema}.batches (
    id            text PRIMARY KEY,
    status        text NOT NULL,
    options       jsontext NOT NULL,
    total         integer NOT NULL,
    created_at    timestamptz NOT NULL,
    completed_at  timestamptz
  );
  CREATE TABLE {schema}.batch_items (
    batch_id    text NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
    idx         integer NOT NULL,
    input       jsontext,
    contact_id  text,
    result      jsontext,
    succeeded   boolean,
    PRIMARY KEY (batch_id, idx)
  ) WITHOUT ROWID;
  `,
  },
];
