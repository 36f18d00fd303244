// The coordinator's state behind two interfaces, so the embedded node:sqlite + filesystem pair and a shared
// database (issue 16: Postgres, object storage) are interchangeable. Every method that changes a round is one
// atomic domain transition (a compare-and-set on the round's status inside one transaction), so two requests — or
// two replicas — racing on a round cannot both win, and an acknowledged upload is always in the round it names.
import type { AuditEntry, FederationView, RoundSpec, RoundStatus } from '../../protocol/api.ts';
import type { KeyRelayAbortReason, KeyRelayStatus } from '../../protocol/vocabulary.ts';

export type FederationRow = FederationView & { ciphertextCount: number | null; markerSlots: number; demo: boolean };

export interface ClinicRow {
  id: string;
  federationId: string;
  name: string;
  holdsKey: boolean;
  publicKey: Uint8Array | null;
}

/** One key relay (src/custody/README.md) as the coordinator stores it: what it relays, never a secret. */
export interface KeyRelayRow {
  id: string;
  federationId: string;
  status: KeyRelayStatus;
  requesterId: string;
  requesterName: string;
  requesterIdentityKey: Uint8Array;
  commitment: Uint8Array;
  holderId: string | null;
  holderName: string | null;
  holderIdentityKey: Uint8Array | null;
  holderEphemeralKey: Uint8Array | null;
  holderNonce: Uint8Array | null;
  requesterEphemeralKey: Uint8Array | null;
  requesterNonce: Uint8Array | null;
  wrappedSha: string | null;
  abortReason: string | null;
  createdAt: string;
}

/** Key relay steps, each a compare-and-set on the relay's status, so two holders answering at once leave one winner. */
export interface KeyRelays {
  /** Opens a relay and aborts (as 'cancelled') the requester's open ones, atomically; returns the superseded ids. */
  start(r: { id: string; federationId: string; requesterId: string; requesterIdentityKey: Uint8Array; commitment: Uint8Array }): Promise<string[]>;
  /** Newest first: the open ones and the most recent finished ones. */
  list(federationId: string): Promise<KeyRelayRow[]>;
  get(federationId: string, id: string): Promise<KeyRelayRow | undefined>;
  answer(id: string, holderId: string, holderIdentityKey: Uint8Array, ephemeralKey: Uint8Array, nonce: Uint8Array): Promise<boolean>;
  reveal(id: string, ephemeralKey: Uint8Array, nonce: Uint8Array): Promise<boolean>;
  deliverWrap(id: string, wrappedSha: string): Promise<boolean>;
  /** wrapped → accepted and the requester becomes a key holder, in one transaction. */
  accept(id: string, requesterId: string): Promise<boolean>;
  abort(id: string, reason: KeyRelayAbortReason): Promise<boolean>;
}

export interface RoundRow {
  federationId: string;
  round: number;
  status: RoundStatus;
  deadlineAt: string;
  aggregateSha: string | null;
  ciphertextCount: number | null;
  spec: RoundSpec;
  failure: string | null;
}

export interface UploadRow {
  clinicId: string;
  clinicName: string;
  sha256: string;
  ciphertextCount: number;
  /** Why aggregation set this upload aside; null while it counts. */
  quarantined: string | null;
}

export interface NewUpload {
  federationId: string;
  round: number;
  clinicId: string;
  sha256: string;
  bytes: number;
  ciphertextCount: number;
}

export type UploadOutcome =
  | { kind: 'created' }
  | { kind: 'duplicate' }
  | { kind: 'conflict' }
  | { kind: 'not-collecting'; status: RoundStatus | 'not open'; currentRound: number }
  | { kind: 'shape-mismatch'; message: string };

export interface NewFederation {
  id: string;
  name: string;
  presetId: FederationView['presetId'];
  strategy: FederationView['strategy'];
  minClinics: number;
  roundSeconds: number;
  ciphertextCount: number | null;
  scaleBits: number | null;
  markerSlots: number;
  /** Demo federations expire and are deleted. */
  expiresAt: string | null;
}

/** A round named by its federation and number: what a job carries. */
export interface RoundKey {
  federationId: string;
  round: number;
}

/** The open transaction's own connection with the engine's own placeholders ($1 on Postgres): pg-boss's `db` option. */
export interface NativeSql {
  executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

/**
 * The round transitions that call for a job, told inside the transition's transaction (an outbox): on Postgres `tx`
 * is that transaction's connection, so a job written through it exists exactly when the transition committed and a
 * rolled-back transition leaves none; on node:sqlite it is undefined and the in-process queue needs none.
 */
export interface RoundEvents {
  /** A round opened (or was reset) with this deadline, an ISO-8601 instant taken from the database clock. */
  opened(round: RoundKey & { deadlineAt: string }, tx: NativeSql | undefined): Promise<void>;
  /** collecting → aggregating: the round needs its sum. */
  closing(round: RoundKey, tx: NativeSql | undefined): Promise<void>;
  /** aggregating → closed: the aggregate is stored, its uploads may go. */
  closed(round: RoundKey, tx: NativeSql | undefined): Promise<void>;
}

export interface ClinicToken {
  tokenHash: string;
  expiresAt: string;
}

export interface Store {
  close(): Promise<void>;
  getMeta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string): Promise<void>;
  audit(actor: string, action: string, detail: Record<string, unknown>): Promise<void>;
  auditLog(limit?: number): Promise<AuditEntry[]>;

  createFederation(f: NewFederation, inviteCodes: readonly string[]): Promise<FederationRow>;
  getFederation(id: string): Promise<FederationRow | undefined>;
  listFederations(): Promise<FederationRow[]>;
  addInvites(federationId: string, codes: readonly string[]): Promise<void>;
  /** Live demo federations (for the cap) and the removal of expired ones; returns the blobs they referenced. */
  liveDemoFederations(now: string): Promise<number>;
  deleteExpiredFederations(now: string): Promise<{ federations: string[]; blobs: string[] }>;

  /** Consumes a one-time invite and creates the clinic, atomically; undefined when the code is unknown or used. */
  redeemInvite(code: string, clinic: { id: string; name: string } & ClinicToken): Promise<ClinicRow | undefined>;
  /** The clinic whose live (unexpired, unrevoked) token has this hash. */
  clinicByTokenHash(tokenHash: string, now: string): Promise<ClinicRow | undefined>;
  getClinic(id: string): Promise<ClinicRow | undefined>;
  clinicsOf(federationId: string): Promise<ClinicRow[]>;
  setClinicToken(clinicId: string, token: ClinicToken): Promise<boolean>;
  revokeClinic(clinicId: string): Promise<boolean>;
  setClinicPublicKey(clinicId: string, publicKey: Uint8Array): Promise<void>;

  /** The founder becomes the first key holder, if the federation has none yet; false when it already has one. */
  claimFounder(federationId: string, clinicId: string): Promise<boolean>;
  markKeyHolder(clinicId: string): Promise<void>;
  keyHolderCount(federationId: string): Promise<number>;
  readonly keyRelays: KeyRelays;
  putEvaluationKey(federationId: string, kind: string, sha256: string, uploadedBy: string): Promise<void>;
  evaluationKey(federationId: string, kind: string): Promise<string | undefined>;
  putInferenceModel(federationId: string, sha256: string, uploadedBy: string): Promise<void>;
  inferenceModel(federationId: string): Promise<string | undefined>;

  /** Where round transitions tell the job queue what they call for (set once, by the round runner). */
  setRoundEvents(events: RoundEvents): void;
  getRound(federationId: string, round: number): Promise<RoundRow | undefined>;
  roundsWithStatus(status: RoundStatus): Promise<RoundRow[]>;
  /**
   * Collecting rounds whose close is due, judged by the database's clock (never a replica's): the quorum has
   * uploaded and the deadline has passed, or every enrolled clinic has uploaded. With a key, that round only.
   */
  dueRounds(only?: RoundKey): Promise<RoundKey[]>;
  uploadsFor(federationId: string, round: number): Promise<UploadRow[]>;
  /** Status check, shape check and the upload row in one transaction: created means it is in the round. */
  recordUpload(u: NewUpload): Promise<UploadOutcome>;
  /** Compare-and-set collecting → aggregating (with its aggregation job, see RoundEvents); false when another caller won or the round is not collecting. */
  tryClose(federationId: string, round: number): Promise<boolean>;
  /** Compare-and-set aggregating → closed with the aggregate, the next round opened and the audit entry, in one transaction. */
  completeAggregation(federationId: string, round: number, result: { aggregateSha: string; ciphertextCount: number; clinics: number }): Promise<boolean>;
  /** aggregating → failed with the reason; the next round opens so the federation goes on. */
  failRound(federationId: string, round: number, reason: string): Promise<boolean>;
  /** Sets an upload of an aggregating round aside (audited); false, changing nothing, once the round has moved on. */
  quarantine(federationId: string, round: number, clinicId: string, reason: string): Promise<boolean>;
  /** Admin: a round not closed goes back to collecting with no uploads and a fresh deadline. */
  resetRound(federationId: string, round: number): Promise<boolean>;

  /** Every blob a row still names (for retention and orphan collection). */
  referencedBlobs(): Promise<Set<string>>;
  /** Upload blobs of closed rounds, whose aggregate is stored: they may be deleted; their rows are dropped too. */
  releaseClosedUploads(): Promise<string[]>;
}

export interface BlobStore {
  /** Stores the bytes under their SHA-256 (rewriting a missing or short copy); throws StorageFull when out of space. */
  put(bytes: Uint8Array): Promise<string>;
  /** The bytes, re-hashed: a corrupt copy is an error, never served. */
  get(sha: string): Promise<Uint8Array>;
  delete(sha: string): Promise<void>;
  /**
   * Every blob, or those last stored before `storedBefore` (a put of bytes already there counts as storing them
   * again), so orphan collection on a shared store spares a blob another replica has just put and not yet recorded.
   */
  list(storedBefore?: Date): Promise<string[]>;
  /** Bytes in use. */
  usage(): Promise<number>;
}
