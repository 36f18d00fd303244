// Numbered migrations of the node:sqlite store; version N is applied once, in a transaction, in order.
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE federations (
     id TEXT PRIMARY KEY, name TEXT NOT NULL, preset_id TEXT NOT NULL, min_clinics INTEGER NOT NULL,
     current_round INTEGER NOT NULL, created_at TEXT NOT NULL);
   CREATE TABLE invites (
     code_hash TEXT PRIMARY KEY, federation_id TEXT NOT NULL REFERENCES federations(id),
     used_by TEXT, created_at TEXT NOT NULL);
   CREATE TABLE clinics (
     id TEXT PRIMARY KEY, federation_id TEXT NOT NULL REFERENCES federations(id), name TEXT NOT NULL,
     token_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL);
   CREATE TABLE rounds (
     federation_id TEXT NOT NULL REFERENCES federations(id), round INTEGER NOT NULL, status TEXT NOT NULL,
     opened_at TEXT NOT NULL, closed_at TEXT, aggregate_sha TEXT, ciphertext_count INTEGER,
     PRIMARY KEY (federation_id, round));
   CREATE TABLE uploads (
     federation_id TEXT NOT NULL, round INTEGER NOT NULL, clinic_id TEXT NOT NULL REFERENCES clinics(id),
     sha256 TEXT NOT NULL, bytes INTEGER NOT NULL, ciphertext_count INTEGER NOT NULL, created_at TEXT NOT NULL,
     PRIMARY KEY (federation_id, round, clinic_id));
   CREATE TABLE audit (
     id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
     detail TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);`,
  // v2: key custody (public keys, key requests, wrapped keys, evaluation keys) and round deadlines.
  `ALTER TABLE federations ADD COLUMN round_seconds INTEGER NOT NULL DEFAULT 3600;
   ALTER TABLE federations ADD COLUMN strategy TEXT NOT NULL DEFAULT 'sum';
   ALTER TABLE rounds ADD COLUMN deadline_at TEXT;
   ALTER TABLE clinics ADD COLUMN public_key BLOB;
   ALTER TABLE clinics ADD COLUMN holds_key INTEGER NOT NULL DEFAULT 0;
   CREATE TABLE key_requests (
     federation_id TEXT NOT NULL, requester_id TEXT NOT NULL REFERENCES clinics(id), status TEXT NOT NULL,
     holder_id TEXT, wrapped_sha TEXT, created_at TEXT NOT NULL, PRIMARY KEY (federation_id, requester_id));
   CREATE TABLE evaluation_keys (
     federation_id TEXT NOT NULL, kind TEXT NOT NULL, sha256 TEXT NOT NULL, uploaded_by TEXT NOT NULL,
     created_at TEXT NOT NULL, PRIMARY KEY (federation_id, kind));`,
  // v3: the inference model each federation serves (head in clear or encrypted, with its layout).
  `CREATE TABLE inference_models (
     federation_id TEXT PRIMARY KEY REFERENCES federations(id), sha256 TEXT NOT NULL, uploaded_by TEXT NOT NULL,
     created_at TEXT NOT NULL);`,
  // v4 (issue 11): each round's declared shape and failure; quarantined and released uploads; clinic tokens that
  // expire and can be revoked; demo federations that expire.
  `ALTER TABLE federations ADD COLUMN ciphertext_count INTEGER;
   ALTER TABLE federations ADD COLUMN marker_slots INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE federations ADD COLUMN expires_at TEXT;
   ALTER TABLE rounds ADD COLUMN spec_ciphertext_count INTEGER;
   ALTER TABLE rounds ADD COLUMN scale_bits INTEGER NOT NULL DEFAULT 40;
   ALTER TABLE rounds ADD COLUMN marker_slots INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE rounds ADD COLUMN failure TEXT;
   ALTER TABLE uploads ADD COLUMN quarantined TEXT;
   ALTER TABLE uploads ADD COLUMN released INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE clinics ADD COLUMN token_expires_at TEXT NOT NULL DEFAULT '9999-12-31T00:00:00.000Z';
   ALTER TABLE clinics ADD COLUMN revoked INTEGER NOT NULL DEFAULT 0;`,
  // v5 (issue 11): the commit-then-reveal key relay (sqlite-key-relays.ts) replaces key requests, whose v1 wraps
  // carried no authenticated transcript; a clinic that was mid-request simply asks again.
  `DROP TABLE key_requests;
   CREATE TABLE key_relays (
     id TEXT PRIMARY KEY, federation_id TEXT NOT NULL REFERENCES federations(id),
     requester_id TEXT NOT NULL REFERENCES clinics(id), requester_identity_key BLOB NOT NULL, commitment BLOB NOT NULL,
     holder_id TEXT REFERENCES clinics(id), holder_identity_key BLOB, holder_ephemeral_key BLOB, holder_nonce BLOB,
     requester_ephemeral_key BLOB, requester_nonce BLOB, wrapped_sha TEXT, status TEXT NOT NULL, abort_reason TEXT,
     created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
   CREATE INDEX key_relays_by_federation ON key_relays (federation_id, created_at);`,
  // v6: a federation may declare its rounds' CKKS scale. A round's scale is the declared one or null (undeclared);
  // the preset's default that v4 wrote was never what weighted uploads use, so it is dropped, not carried over.
  `ALTER TABLE federations ADD COLUMN scale_bits INTEGER;
   ALTER TABLE rounds DROP COLUMN scale_bits;
   ALTER TABLE rounds ADD COLUMN scale_bits INTEGER;`,
];
