// Wire schemas of the coordinator's JSON API, written once with TypeBox: the coordinator validates requests and
// documents its routes (OpenAPI) with these schemas, and every client uses the static types derived from them.
import { type Static, Type } from 'typebox';
import { AGGREGATION_PRESET_IDS, STRATEGY_NAMES } from './vocabulary.ts';

// Identifiers are opaque lowercase base32-ish strings: strict patterns keep them out of paths and SQL surprises.
export const ID_PATTERN = '^[a-z0-9-]{3,64}$';
export const INVITE_PATTERN = '^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$';
/** The largest round number a path may name. */
export const MAX_ROUND = 9_999_999;

export const RoundStatusSchema = Type.Enum(['collecting', 'aggregating', 'closed', 'failed']);
export type RoundStatus = Static<typeof RoundStatusSchema>;

export const FederationViewSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  presetId: Type.Enum(AGGREGATION_PRESET_IDS),
  strategy: Type.Enum(STRATEGY_NAMES),
  minClinics: Type.Integer(),
  roundSeconds: Type.Integer(),
  currentRound: Type.Integer(),
});
export type FederationView = Static<typeof FederationViewSchema>;

export const EnrolRequestSchema = Type.Object(
  {
    inviteCode: Type.String({ pattern: INVITE_PATTERN }),
    clinicName: Type.String({ minLength: 1, maxLength: 80 }),
  },
  { additionalProperties: false },
);
export type EnrolRequest = Static<typeof EnrolRequestSchema>;

export const EnrolResponseSchema = Type.Object({
  clinicId: Type.String(),
  federationId: Type.String(),
  token: Type.String(),
  /** The token stops working then; the admin rotates it (POST /api/admin/clinics/:clinicId/token). */
  expiresAt: Type.Optional(Type.String()),
});
export type EnrolResponse = Static<typeof EnrolResponseSchema>;

export const MeResponseSchema = Type.Object({
  clinicId: Type.String(),
  clinicName: Type.String(),
  holdsKey: Type.Boolean(),
  keyHolders: Type.Integer(),
  federation: FederationViewSchema,
});
export type MeResponse = Static<typeof MeResponseSchema>;

/**
 * The shape every upload of a round must have, fixed when the round opens from what the federation declared:
 * `ciphertextCount` ciphertexts per upload, each at CKKS scale 2^`scaleBits` (a weighted strategy's per-round scale,
 * src/he/aggregate.ts aggregationScaleBits). An upload that does not match is refused with 422 naming the mismatch.
 * null means the federation did not declare it: no upload then fixes it for the others; aggregation keeps the
 * largest group of uploads SEAL can add together and quarantines the rest, so one clinic cannot stall a round.
 * `markerSlots` is informational to the coordinator: the inclusion-marker slots clients append.
 */
export const RoundSpecSchema = Type.Object({
  presetId: Type.Enum(AGGREGATION_PRESET_IDS),
  ciphertextCount: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
  scaleBits: Type.Union([Type.Integer(), Type.Null()]),
  markerSlots: Type.Integer({ minimum: 0 }),
});
export type RoundSpec = Static<typeof RoundSpecSchema>;

export const RoundViewSchema = Type.Object({
  federationId: Type.String(),
  round: Type.Integer(),
  status: RoundStatusSchema,
  quorum: Type.Integer(),
  enrolled: Type.Integer(),
  deadlineAt: Type.String(),
  /** Names of the clinics that submitted, for people. */
  submitted: Type.Array(Type.String()),
  /**
   * The ids of the clinics whose uploads the aggregate holds (quarantined ones excluded): the roster each clinic's
   * inclusion check (src/fl/inclusion.ts) verifies against the decrypted markers.
   */
  submittedIds: Type.Array(Type.String()),
  ciphertextCount: Type.Union([Type.Integer(), Type.Null()]),
  spec: RoundSpecSchema,
  /** Clinics whose upload aggregation set aside (it could not be added to the others'); they are not in the sum. */
  quarantined: Type.Array(Type.String()),
  /** Why the round failed; null unless status is 'failed'. */
  failure: Type.Union([Type.String(), Type.Null()]),
});
export type RoundView = Static<typeof RoundViewSchema>;

export const UploadResponseSchema = Type.Object({ round: Type.Integer(), sha256: Type.String(), duplicate: Type.Boolean() });
export type UploadResponse = Static<typeof UploadResponseSchema>;

export const CreateFederationRequestSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 80 }),
    presetId: Type.Enum(AGGREGATION_PRESET_IDS),
    minClinics: Type.Integer({ minimum: 1, maximum: 1000 }),
    strategy: Type.Optional(Type.Enum(STRATEGY_NAMES)),
    roundSeconds: Type.Optional(Type.Integer({ minimum: 5, maximum: 30 * 24 * 3600 })),
    /** Ciphertexts per upload (see RoundSpec); declare it, or aggregation sorts mismatching uploads out. */
    ciphertextCount: Type.Optional(Type.Integer({ minimum: 1, maximum: 4096 })),
    /** log2 of the CKKS scale of every ciphertext (see RoundSpec). */
    scaleBits: Type.Optional(Type.Integer({ minimum: 20, maximum: 60 })),
    /** Inclusion-marker slots clients append (see RoundSpec). */
    markerSlots: Type.Optional(Type.Integer({ minimum: 0, maximum: 64 })),
  },
  { additionalProperties: false },
);
export type CreateFederationRequest = Static<typeof CreateFederationRequestSchema>;

export const InvitesRequestSchema = Type.Object({ count: Type.Integer({ minimum: 1, maximum: 100 }) }, { additionalProperties: false });
export const InvitesResponseSchema = Type.Object({ federationId: Type.String(), codes: Type.Array(Type.String()) });
export type InvitesResponse = Static<typeof InvitesResponseSchema>;

/** GET /api/admin/audit: one entry of the append-only, hash-chained audit log. */
export const AuditEntrySchema = Type.Object({
  id: Type.Integer(),
  at: Type.String(),
  actor: Type.String(),
  action: Type.String(),
  /** The detail object as the JSON text that was hashed. */
  detail: Type.String(),
  prevHash: Type.String(),
  hash: Type.String(),
});
export type AuditEntry = Static<typeof AuditEntrySchema>;

/** The chain's genesis: the first entry's prevHash. */
export const AUDIT_GENESIS_HASH = '0'.repeat(64);

/** The text whose SHA-256 (hex) is an entry's hash; the coordinator writes it and the admin page re-checks it. */
export function auditHashInput(e: Pick<AuditEntry, 'prevHash' | 'at' | 'actor' | 'action' | 'detail'>): string {
  return `${e.prevHash}\n${e.at}\n${e.actor}\n${e.action}\n${e.detail}`;
}

/** GET /api/admin/jobs: a job that failed every attempt and was moved to the dead-letter queue. */
export const DeadLetterViewSchema = Type.Object({
  id: Type.String(),
  job: Type.Enum(['aggregate', 'deadline', 'retention']),
  federationId: Type.String(),
  round: Type.Integer(),
  attempts: Type.Integer({ minimum: 1 }),
  lastError: Type.String(),
  deadLetteredAt: Type.String(),
});
export type DeadLetterView = Static<typeof DeadLetterViewSchema>;

/** The coordinator's job queue: pg-boss on the shared Postgres, or in-process (embedded; no dead-letter queue). */
export const JobsViewSchema = Type.Object({
  queue: Type.Enum(['pg-boss', 'in-process']),
  deadLetters: Type.Array(DeadLetterViewSchema),
});
export type JobsView = Static<typeof JobsViewSchema>;

export const ApiErrorBodySchema = Type.Object({ error: Type.String(), message: Type.String() });
export type ApiErrorBody = Static<typeof ApiErrorBodySchema>;

export const OkSchema = Type.Object({ ok: Type.Boolean() });
export const ShaResponseSchema = Type.Object({ sha256: Type.String() });

// --- path parameters (they arrive as strings; the validator converts rounds to integers) -------------------------
const Fid = Type.String({ pattern: ID_PATTERN });
export const FederationParamsSchema = Type.Object({ fid: Fid });
export const RoundParamsSchema = Type.Object({ fid: Fid, round: Type.Integer({ minimum: 1, maximum: MAX_ROUND }) });
export const EvaluationKeyParamsSchema = Type.Object({ fid: Fid, kind: Type.Enum(['galois-keys', 'relin-keys']) });
export const ClinicParamsSchema = Type.Object({ clinicId: Type.String({ pattern: ID_PATTERN }) });
