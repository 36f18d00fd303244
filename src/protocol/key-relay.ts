// Wire schemas of the key relay (src/custody/README.md): the coordinator validates against them, the app and the
// tests type their calls with them. Binary fields are standard base64 of fixed length, checked by pattern so a
// wrong-sized key is a 400 before any handler runs.
import { type Static, Type } from 'typebox';
import { ID_PATTERN } from './api.ts';
import { KEY_RELAY_ABORT_REASONS, KEY_RELAY_STATUSES } from './vocabulary.ts';

/** base64 of 32 bytes (a SHA-256 commitment or a nonce). */
const Base64Of32 = Type.String({ pattern: '^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$' });
/** base64 of a 65-byte uncompressed P-256 point (0x04 ‖ x ‖ y). */
const Base64PublicKey = Type.String({ pattern: '^B[A-P][A-Za-z0-9+/]{84}[AEIMQUYcgkosw048]=$' });

export const KeyRelayCommit = Type.Object({ commitment: Base64Of32 }, { additionalProperties: false });
export type KeyRelayCommit = Static<typeof KeyRelayCommit>;

/** The holder's answer and the requester's reveal have the same shape: an ephemeral public key and a nonce. */
export const KeyRelayContribution = Type.Object({ ephemeralKey: Base64PublicKey, nonce: Base64Of32 }, { additionalProperties: false });
export type KeyRelayContribution = Static<typeof KeyRelayContribution>;

export const KeyRelayAbort = Type.Object(
  { reason: Type.Enum(KEY_RELAY_ABORT_REASONS), detail: Type.Optional(Type.String({ maxLength: 300 })) },
  { additionalProperties: false },
);
export type KeyRelayAbort = Static<typeof KeyRelayAbort>;

export const KeyRelayParams = Type.Object({ fid: Type.String({ pattern: ID_PATTERN }), relayId: Type.String({ pattern: ID_PATTERN }) });

export const KeyRelayView = Type.Object({
  relayId: Type.String(),
  status: Type.Enum(KEY_RELAY_STATUSES),
  requesterId: Type.String(),
  requesterName: Type.String(),
  /** The requester's identity key as the coordinator recorded it when the relay began. */
  requesterIdentityKey: Base64PublicKey,
  commitment: Base64Of32,
  holderId: Type.Union([Type.String(), Type.Null()]),
  holderName: Type.Union([Type.String(), Type.Null()]),
  holderIdentityKey: Type.Union([Base64PublicKey, Type.Null()]),
  holderEphemeralKey: Type.Union([Base64PublicKey, Type.Null()]),
  holderNonce: Type.Union([Base64Of32, Type.Null()]),
  requesterEphemeralKey: Type.Union([Base64PublicKey, Type.Null()]),
  requesterNonce: Type.Union([Base64Of32, Type.Null()]),
  abortReason: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
});
export type KeyRelayView = Static<typeof KeyRelayView>;

export const KeyRelayCreated = Type.Object({ relayId: Type.String() });
export type KeyRelayCreated = Static<typeof KeyRelayCreated>;
