/**
 * The schema of the durable stores: ONE ordered list of migrations for both engines (embedded
 * PGlite and PostgreSQL run the same SQL). Append only: a migration that has shipped is never
 * edited; a change is a new entry. `{schema}` stands for the quoted schema the tables live in.
 *
 * Applied by `openDatabase` in one transaction, each version recorded in `schema_migrations`
 * (on PostgreSQL under an advisory lock, so two replicas starting together do not race).
 */
export const MIGRATIONS: readonly string[] = [
  // 1: identity map, idempotency records, outbox.
  `
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
];
