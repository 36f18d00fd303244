// Wire types of the coordinator's JSON API, shared by the browser clients and the coordinator.
// The JSON schemas below are what the coordinator validates requests against; the TypeScript types mirror them.

export type RoundStatus = 'collecting' | 'aggregating' | 'closed';

export interface FederationView {
  id: string;
  name: string;
  presetId: string;
  strategy: string;
  minClinics: number;
  roundSeconds: number;
  currentRound: number;
}

export interface EnrolRequest {
  inviteCode: string;
  clinicName: string;
}

export interface EnrolResponse {
  clinicId: string;
  federationId: string;
  token: string;
}

export interface MeResponse {
  clinicId: string;
  clinicName: string;
  holdsKey: boolean;
  keyHolders: number;
  federation: FederationView;
}

export interface KeyRequestView {
  requesterId: string;
  requesterName: string;
  /** base64 of the requester's raw P-256 public key */
  requesterPublicKey: string | null;
  status: 'pending' | 'wrapped';
  holderId: string | null;
  /** base64 of the approving holder's raw P-256 public key */
  holderPublicKey: string | null;
}

export interface RoundView {
  federationId: string;
  round: number;
  status: RoundStatus;
  quorum: number;
  enrolled: number;
  deadlineAt: string;
  /** Names of the clinics that submitted, for people. */
  submitted: string[];
  /** Their clinic ids, in the same order: the roster each clinic's inclusion check (src/fl/inclusion.ts) verifies. */
  submittedIds: string[];
  ciphertextCount: number | null;
}

export interface UploadResponse {
  round: number;
  sha256: string;
  duplicate: boolean;
}

export interface CreateFederationRequest {
  name: string;
  presetId: string;
  minClinics: number;
  strategy?: string;
  roundSeconds?: number;
}

export interface InvitesResponse {
  federationId: string;
  codes: string[];
}

/** GET /api/admin/audit: one entry of the append-only, hash-chained audit log. */
export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  /** The detail object as the JSON text that was hashed. */
  detail: string;
  prevHash: string;
  hash: string;
}

/** The chain's genesis: the first entry's prevHash. */
export const AUDIT_GENESIS_HASH = '0'.repeat(64);

/** The text whose SHA-256 (hex) is an entry's hash; the coordinator writes it and the admin page re-checks it. */
export function auditHashInput(e: Pick<AuditEntry, 'prevHash' | 'at' | 'actor' | 'action' | 'detail'>): string {
  return `${e.prevHash}\n${e.at}\n${e.actor}\n${e.action}\n${e.detail}`;
}

export interface ApiErrorBody {
  error: string;
  message: string;
}

// Identifiers are opaque lowercase base32-ish strings: strict patterns keep them out of paths and SQL surprises.
export const ID_PATTERN = '^[a-z0-9-]{3,64}$';
// Path parameters arrive as strings; rounds are validated as decimal strings rather than coerced.
export const ROUND_PATTERN = '^[1-9][0-9]{0,6}$';
export const INVITE_PATTERN = '^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$';

export const schemas = {
  enrolRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['inviteCode', 'clinicName'],
    properties: {
      inviteCode: { type: 'string', pattern: INVITE_PATTERN },
      clinicName: { type: 'string', minLength: 1, maxLength: 80 },
    },
  },
  createFederationRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'presetId', 'minClinics'],
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 80 },
      presetId: { type: 'string', enum: ['agg-v1', 'agg-wide-v1'] },
      minClinics: { type: 'integer', minimum: 1, maximum: 1000 },
      strategy: { type: 'string', enum: ['sum', 'fedavg-head', 'prototypes', 'ridge'] },
      roundSeconds: { type: 'integer', minimum: 5, maximum: 30 * 24 * 3600 },
    },
  },
  invitesRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['count'],
    properties: { count: { type: 'integer', minimum: 1, maximum: 100 } },
  },
  federationParams: {
    type: 'object',
    required: ['fid'],
    properties: { fid: { type: 'string', pattern: ID_PATTERN } },
  },
  roundParams: {
    type: 'object',
    required: ['fid', 'round'],
    properties: { fid: { type: 'string', pattern: ID_PATTERN }, round: { type: 'string', pattern: ROUND_PATTERN } },
  },
  evaluationKeyParams: {
    type: 'object',
    required: ['fid', 'kind'],
    properties: { fid: { type: 'string', pattern: ID_PATTERN }, kind: { type: 'string', enum: ['galois-keys', 'relin-keys'] } },
  },
  keyRequestParams: {
    type: 'object',
    required: ['fid', 'clinicId'],
    properties: { fid: { type: 'string', pattern: ID_PATTERN }, clinicId: { type: 'string', pattern: ID_PATTERN } },
  },
} as const;
