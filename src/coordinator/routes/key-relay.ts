// Key relay (protocol and threat model: src/custody/README.md). The founder becomes the first key holder; a clinic
// that needs the key commits, a holder answers, the requester reveals, the holder delivers the key wrapped under the
// transcript both people confirmed, the requester accepts. The coordinator stores and forwards; it does not judge
// the cryptography (the clients check everything it says), but it enforces who may take each step and in which
// order, and it audits every abort.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { fromBase64, toBase64 } from '../../common/base64.ts';
import { checkWrappedShape, MAX_WRAPPED_BYTES } from '../../custody/keywrap.ts';
import { FederationParamsSchema } from '../../protocol/api.ts';
import { KeyRelayAbort, KeyRelayCommit, KeyRelayContribution, KeyRelayParams, type KeyRelayView } from '../../protocol/key-relay.ts';
import { binaryBody, type CoordinatorContext, memberFederation, requireKeyHolder } from '../context.ts';
import { HttpError } from '../errors.ts';
import { randomId } from '../federations.ts';
import type { ClinicRow, KeyRelayRow } from '../stores/types.ts';

const b64 = (bytes: Uint8Array | null): string | null => (bytes ? toBase64(bytes) : null);

function view(r: KeyRelayRow): KeyRelayView {
  return {
    relayId: r.id,
    status: r.status,
    requesterId: r.requesterId,
    requesterName: r.requesterName,
    requesterIdentityKey: toBase64(r.requesterIdentityKey),
    commitment: toBase64(r.commitment),
    holderId: r.holderId,
    holderName: r.holderName,
    holderIdentityKey: b64(r.holderIdentityKey),
    holderEphemeralKey: b64(r.holderEphemeralKey),
    holderNonce: b64(r.holderNonce),
    requesterEphemeralKey: b64(r.requesterEphemeralKey),
    requesterNonce: b64(r.requesterNonce),
    abortReason: r.abortReason,
    createdAt: r.createdAt,
  };
}

export const keyRelayRoutes: FastifyPluginAsyncTypebox<CoordinatorContext> = async (app, { store, blobs }) => {
  const relays = store.keyRelays;
  const clinic = { auth: 'clinic' } as const;

  /**
   * The caller, its federation and the relay in the path. The relay is visible to its requester and to key holders
   * only; anything else is a 404 that reveals nothing. `holderAction` first requires the caller to hold the key (403).
   */
  const relayCall = async (request: FastifyRequest, { fid, relayId }: { fid: string; relayId: string }, holderAction?: string) => {
    const { clinic, federation } = await memberFederation(store, request, fid);
    if (holderAction) requireKeyHolder(clinic, holderAction);
    const relay = await relays.get(federation.id, relayId);
    if (!relay || (relay.requesterId !== clinic.id && !clinic.holdsKey)) throw new HttpError(404, 'not-found', `key relay ${relayId} not found`);
    return { clinic, federation, relay };
  };
  const requireRequester = (relay: KeyRelayRow, caller: ClinicRow, action: string): void => {
    if (relay.requesterId !== caller.id) throw new HttpError(403, 'not-requester', `only the requesting clinic ${action}`);
  };
  const wrongStep = (relay: KeyRelayRow, step: string): never => {
    throw new HttpError(409, 'wrong-relay-step', `key relay ${relay.id} is ${relay.status}; ${step} is not its next step`);
  };

  app.post(
    '/api/federations/:fid/founder',
    { config: clinic, schema: { summary: 'become the first key holder of a federation that has none (the founder created the keys locally)', params: FederationParamsSchema } },
    async (request) => {
      const { clinic, federation } = await memberFederation(store, request, request.params.fid);
      if (!clinic.publicKey) throw new HttpError(409, 'no-public-key', 'set this clinic’s public key first (PUT /api/me/public-key)');
      if (!(await store.claimFounder(federation.id, clinic.id))) throw new HttpError(409, 'already-founded', 'this federation already has a key holder; request the key from them instead');
      await store.audit(clinic.id, 'federation.founded', { federationId: federation.id });
      return { ok: true };
    },
  );

  app.post(
    '/api/federations/:fid/key-relays',
    { config: clinic, schema: { summary: 'start a key relay: the requester’s commitment to its ephemeral key and nonce (replaces its open relay)', params: FederationParamsSchema, body: KeyRelayCommit } },
    async (request, reply) => {
      const { clinic, federation } = await memberFederation(store, request, request.params.fid);
      if (clinic.holdsKey) throw new HttpError(409, 'already-holds-key', 'this clinic already holds the federation key');
      if (!clinic.publicKey) throw new HttpError(409, 'no-public-key', 'set this clinic’s public key first (PUT /api/me/public-key)');
      const relayId = randomId('kr');
      const superseded = await relays.start({ id: relayId, federationId: federation.id, requesterId: clinic.id, requesterIdentityKey: clinic.publicKey, commitment: fromBase64(request.body.commitment) });
      for (const old of superseded) await store.audit(clinic.id, 'key-relay.aborted', { federationId: federation.id, relayId: old, reason: 'cancelled' });
      await store.audit(clinic.id, 'key-relay.started', { federationId: federation.id, relayId });
      reply.status(201);
      return { relayId };
    },
  );

  app.get(
    '/api/federations/:fid/key-relays',
    { config: clinic, schema: { summary: 'key relays, newest first: all of them for key holders, only its own for any other clinic', params: FederationParamsSchema } },
    async (request) => {
      const { clinic, federation } = await memberFederation(store, request, request.params.fid);
      return (await relays.list(federation.id))
        .filter((r) => clinic.holdsKey || r.requesterId === clinic.id)
        .map(view);
    },
  );

  app.post(
    '/api/federations/:fid/key-relays/:relayId/response',
    { config: clinic, schema: { summary: 'a key holder answers a commitment with its own ephemeral key and nonce', params: KeyRelayParams, body: KeyRelayContribution } },
    async (request) => {
      const { clinic, federation, relay } = await relayCall(request, request.params, 'answer key relays');
      if (!clinic.publicKey) throw new HttpError(409, 'no-public-key', 'set this clinic’s public key first (PUT /api/me/public-key)');
      if (!(await relays.answer(relay.id, clinic.id, clinic.publicKey, fromBase64(request.body.ephemeralKey), fromBase64(request.body.nonce)))) wrongStep(relay, 'an answer');
      await store.audit(clinic.id, 'key-relay.answered', { federationId: federation.id, relayId: relay.id });
      return { ok: true };
    },
  );

  app.post(
    '/api/federations/:fid/key-relays/:relayId/reveal',
    { config: clinic, schema: { summary: 'the requester opens its commitment (ephemeral key and nonce); both screens can then show the code', params: KeyRelayParams, body: KeyRelayContribution } },
    async (request) => {
      const { clinic, federation, relay } = await relayCall(request, request.params);
      requireRequester(relay, clinic, 'opens its commitment');
      if (!(await relays.reveal(relay.id, fromBase64(request.body.ephemeralKey), fromBase64(request.body.nonce)))) wrongStep(relay, 'a reveal');
      await store.audit(clinic.id, 'key-relay.revealed', { federationId: federation.id, relayId: relay.id });
      return { ok: true };
    },
  );

  app.put(
    '/api/federations/:fid/key-relays/:relayId/wrapped',
    {
      config: { auth: 'clinic', body: 'binary' },
      bodyLimit: MAX_WRAPPED_BYTES,
      schema: { summary: 'the answering holder delivers the federation key wrapped under the confirmed transcript (v2)', params: KeyRelayParams },
    },
    async (request) => {
      const { clinic, federation, relay } = await relayCall(request, request.params);
      if (relay.holderId !== clinic.id) throw new HttpError(403, 'not-answering-holder', 'only the key holder that answered this relay may deliver its wrapped key');
      const wrapped = binaryBody(request);
      try {
        checkWrappedShape(wrapped);
      } catch (e) {
        throw new HttpError(400, 'invalid-wrapped-key', (e as Error).message);
      }
      if (relay.status !== 'revealed') wrongStep(relay, 'a wrapped key');
      const sha = await blobs.put(wrapped);
      if (!(await relays.deliverWrap(relay.id, sha))) wrongStep(relay, 'a wrapped key');
      await store.audit(clinic.id, 'key-relay.wrapped', { federationId: federation.id, relayId: relay.id, requester: relay.requesterId, sha256: sha });
      return { sha256: sha };
    },
  );

  app.get(
    '/api/federations/:fid/key-relays/:relayId/wrapped',
    { config: clinic, schema: { summary: 'the wrapped federation key, for the requester of the relay only', params: KeyRelayParams } },
    async (request, reply) => {
      const { clinic, relay } = await relayCall(request, request.params);
      if (relay.requesterId !== clinic.id) throw new HttpError(404, 'not-found', 'no wrapped key for this clinic');
      if (relay.status !== 'wrapped' || !relay.wrappedSha) throw new HttpError(409, 'not-released', `key relay ${relay.id} is ${relay.status}: no wrapped key is released`);
      reply.type('application/octet-stream');
      return Buffer.from(await blobs.get(relay.wrappedSha));
    },
  );

  app.post(
    '/api/federations/:fid/key-relays/:relayId/accept',
    { config: clinic, schema: { summary: 'the requester opened the wrapped key: it becomes a key holder', params: KeyRelayParams } },
    async (request) => {
      const { clinic, federation, relay } = await relayCall(request, request.params);
      requireRequester(relay, clinic, 'accepts its key');
      if (!(await relays.accept(relay.id, clinic.id))) wrongStep(relay, 'acceptance');
      await store.audit(clinic.id, 'key-relay.accepted', { federationId: federation.id, relayId: relay.id, holder: relay.holderId });
      return { ok: true };
    },
  );

  app.post(
    '/api/federations/:fid/key-relays/:relayId/abort',
    { config: clinic, schema: { summary: 'end a relay (codes differ, a broken commitment or wrap, or cancelled); always audited', params: KeyRelayParams, body: KeyRelayAbort } },
    async (request) => {
      const { clinic, federation, relay } = await relayCall(request, request.params);
      if (relay.requesterId !== clinic.id && relay.holderId !== clinic.id) throw new HttpError(403, 'not-a-party', 'only the requester or the answering holder may abort a relay');
      if (relay.status === 'accepted') throw new HttpError(409, 'already-accepted', `key relay ${relay.id} was already accepted; revoke the clinic instead`);
      // A second report of the same relay (the other side noticed too) is audited as well: both detections count.
      await relays.abort(relay.id, request.body.reason);
      await store.audit(clinic.id, 'key-relay.aborted', { federationId: federation.id, relayId: relay.id, reason: request.body.reason, detail: request.body.detail ?? null, by: relay.requesterId === clinic.id ? 'requester' : 'holder' });
      request.log.warn({ relayId: relay.id, reason: request.body.reason }, 'key relay aborted');
      return { ok: true };
    },
  );
};
