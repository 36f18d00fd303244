// Numbered migrations of the Postgres store, the same tables as the node:sqlite store's (sqlite-migrations.ts)
// at its current version, written in Postgres types. The audit chain cannot fork: each entry names its predecessor
// and a predecessor may be named once (UNIQUE prev_hash), on top of the chain-head lock writers take.
export const PG_MIGRATIONS: readonly string[] = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE federations (
     id TEXT PRIMARY KEY, name TEXT NOT NULL, preset_id TEXT NOT NULL, min_clinics INTEGER NOT NULL,
     current_round INTEGER NOT NULL, created_at TEXT NOT NULL, round_seconds INTEGER NOT NULL DEFAULT 3600,
     strategy TEXT NOT NULL DEFAULT 'sum', ciphertext_count INTEGER, marker_slots INTEGER NOT NULL DEFAULT 0, expires_at TEXT);
   CREATE TABLE invites (
     code_hash TEXT PRIMARY KEY, federation_id TEXT NOT NULL REFERENCES federations(id), used_by TEXT, created_at TEXT NOT NULL);
   CREATE TABLE clinics (
     id TEXT PRIMARY KEY, federation_id TEXT NOT NULL REFERENCES federations(id), name TEXT NOT NULL,
     token_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, public_key BYTEA, holds_key INTEGER NOT NULL DEFAULT 0,
     token_expires_at TEXT NOT NULL DEFAULT '9999-12-31T00:00:00.000Z', revoked INTEGER NOT NULL DEFAULT 0);
   CREATE TABLE rounds (
     federation_id TEXT NOT NULL REFERENCES federations(id), round INTEGER NOT NULL, status TEXT NOT NULL,
     opened_at TEXT NOT NULL, closed_at TEXT, aggregate_sha TEXT, ciphertext_count INTEGER, deadline_at TEXT,
     spec_ciphertext_count INTEGER, scale_bits INTEGER NOT NULL DEFAULT 40, marker_slots INTEGER NOT NULL DEFAULT 0, failure TEXT,
     PRIMARY KEY (federation_id, round));
   CREATE TABLE uploads (
     federation_id TEXT NOT NULL, round INTEGER NOT NULL, clinic_id TEXT NOT NULL REFERENCES clinics(id),
     sha256 TEXT NOT NULL, bytes INTEGER NOT NULL, ciphertext_count INTEGER NOT NULL, created_at TEXT NOT NULL,
     quarantined TEXT, released INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (federation_id, round, clinic_id));
   CREATE TABLE audit (
     id INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
     detail TEXT NOT NULL, prev_hash TEXT NOT NULL UNIQUE, hash TEXT NOT NULL UNIQUE);
   CREATE TABLE key_relays (
     id TEXT PRIMARY KEY, federation_id TEXT NOT NULL REFERENCES federations(id),
     requester_id TEXT NOT NULL REFERENCES clinics(id), requester_identity_key BYTEA NOT NULL, commitment BYTEA NOT NULL,
     holder_id TEXT REFERENCES clinics(id), holder_identity_key BYTEA, holder_ephemeral_key BYTEA, holder_nonce BYTEA,
     requester_ephemeral_key BYTEA, requester_nonce BYTEA, wrapped_sha TEXT, status TEXT NOT NULL, abort_reason TEXT,
     created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
   CREATE INDEX key_relays_by_federation ON key_relays (federation_id, created_at);
   CREATE TABLE evaluation_keys (
     federation_id TEXT NOT NULL, kind TEXT NOT NULL, sha256 TEXT NOT NULL, uploaded_by TEXT NOT NULL,
     created_at TEXT NOT NULL, PRIMARY KEY (federation_id, kind));
   CREATE TABLE inference_models (
     federation_id TEXT PRIMARY KEY REFERENCES federations(id), sha256 TEXT NOT NULL, uploaded_by TEXT NOT NULL, created_at TEXT NOT NULL);
   CREATE TABLE blobs (sha256 TEXT PRIMARY KEY, data BYTEA NOT NULL);`,
  // v2 (sqlite v6): a federation may declare its rounds' CKKS scale; a round's scale is the declared one or null.
  `ALTER TABLE federations ADD COLUMN scale_bits INTEGER;
   ALTER TABLE rounds ALTER COLUMN scale_bits DROP NOT NULL;
   ALTER TABLE rounds ALTER COLUMN scale_bits DROP DEFAULT;
   UPDATE rounds SET scale_bits = NULL;`,
  // v3: when a blob was last stored, so a restarting replica's orphan collection spares blobs another replica has
  // just put and not yet recorded.
  `ALTER TABLE blobs ADD COLUMN stored_at TIMESTAMPTZ NOT NULL DEFAULT now();`,
];
