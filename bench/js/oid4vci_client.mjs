// An independent OpenID4VCI wallet against a running Blason: Sphereon's @sphereon/oid4vci-client
// takes each credential offer, trades its pre-authorized code at the token endpoint, fetches a
// c_nonce and asks for the credential with a key proof signed by this wallet's own key (jose):
// did:key (Ed25519, EdDSA) for the ldp_vc offer, did:jwk (P-256, ES256) for the jwt_vc_json one.
// Then the refusals: a replayed pre-authorized code, a wrong transaction code, a proof carrying a
// stale (already used) nonce, a proof signed by another key than the one it names.
//
// Usage: node oid4vci_client.mjs offers.json received.json (the library logs to stdout: the result goes to a file)
// offers.json: {issuer, ldp_vc: {uri, txCode}, jwt_vc_json: {...}, replay, wrong_tx_code, stale_nonce, other_key}
// Output: {now, holder: {format: did}, credentials: {format: credential}, refusals: {case: {refused, detail}}}
import {readFileSync, writeFileSync} from 'node:fs';
import {OpenID4VCIClient} from '@sphereon/oid4vci-client';
import {SignJWT, exportJWK, generateKeyPair} from 'jose';

const offers = JSON.parse(readFileSync(process.argv[2], 'utf8'));

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
function base58btc(bytes) {
  let value = 0n;
  for (const byte of bytes) value = value * 256n + BigInt(byte);
  let out = '';
  while (value > 0n) {
    out = BASE58[Number(value % 58n)] + out;
    value /= 58n;
  }
  for (const byte of bytes) {
    if (byte !== 0) break;
    out = '1' + out;
  }
  return 'z' + out;
}

// A holder key of its own: did:key (Ed25519) or did:jwk (P-256).
async function holder(kind) {
  const alg = kind === 'did:key' ? 'EdDSA' : 'ES256';
  const {privateKey, publicKey} = await generateKeyPair(alg, {crv: kind === 'did:key' ? 'Ed25519' : 'P-256'});
  const jwk = await exportJWK(publicKey);
  let did;
  let kid;
  if (kind === 'did:key') {
    const raw = Buffer.from(jwk.x, 'base64url');
    const id = base58btc(Buffer.concat([Buffer.from([0xed, 0x01]), raw]));
    did = `did:key:${id}`;
    kid = `${did}#${id}`;
  } else {
    const members = {kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y};
    did = `did:jwk:${Buffer.from(JSON.stringify(members)).toString('base64url')}`;
    kid = `${did}#0`;
  }
  return {alg, did, kid, privateKey};
}

// The client builds the proof (header typ/alg/kid, payload aud/iat/nonce); we only sign it,
// or, for the refusal cases, spoil it the way a thief or a replaying wallet would.
function signer(key, {signWith, nonce} = {}) {
  const seen = [];
  const signCallback = async (jwt) => {
    const payload = {...jwt.payload};
    seen.push(payload.nonce);
    if (nonce) payload.nonce = nonce;
    return new SignJWT(payload).setProtectedHeader({...jwt.header}).sign((signWith ?? key).privateKey);
  };
  return {callbacks: {signCallback}, seen};
}

async function client(offer) {
  return OpenID4VCIClient.fromURI({uri: offer.uri, retrieveServerMetadata: true});
}

async function obtain(offer, key, format, spoil = {}) {
  const wallet = await client(offer);
  await wallet.acquireAccessToken(offer.txCode ? {pin: offer.txCode} : {});
  const {callbacks, seen} = signer(key, spoil);
  const response = await wallet.acquireCredentials({
    credentialTypes: ['VerifiableCredential', 'OpenBadgeCredential'],
    format,
    kid: key.kid,
    alg: key.alg,
    proofCallbacks: callbacks,
  });
  const first = response.credentials?.[0]?.credential ?? response.credential;
  return {credential: first, nonces: seen};
}

// Refused as expected: a 400 from the endpoint named (token or credential), not a throttle nor a crash.
async function refused(endpoint, attempt) {
  try {
    await attempt();
    return {refused: false, detail: 'Blason accepted it'};
  } catch (error) {
    const detail = String(error?.message ?? error);
    const where = endpoint === 'token' ? /access token from \S+\/token /.test(detail) : /credential from \S+\/credential /.test(detail);
    return {refused: where && /failed with status: 400\b/.test(detail), detail};
  }
}

const edKey = await holder('did:key');
const pKey = await holder('did:jwk');
const thief = await holder('did:key');

const ldp = await obtain(offers.ldp_vc, edKey, 'ldp_vc');
const jwt = await obtain(offers.jwt_vc_json, pKey, 'jwt_vc_json');

const refusals = {};
// A replayed pre-authorized code: the first wallet takes the token, a second one comes with the same code.
const first = await client(offers.replay);
await first.acquireAccessToken({});
refusals.replayed_pre_authorized_code = await refused('token', async () => {
  const second = await client(offers.replay);
  await second.acquireAccessToken({});
});
refusals.wrong_transaction_code = await refused('token', async () => {
  const wallet = await client(offers.wrong_tx_code);
  const wrong = offers.wrong_tx_code.txCode === '000000' ? '111111' : '000000';
  await wallet.acquireAccessToken({pin: wrong});
});
// A stale nonce: the one already spent on the ldp_vc credential above.
refusals.stale_nonce = await refused('credential', () =>
  obtain(offers.stale_nonce, edKey, 'ldp_vc', {nonce: ldp.nonces.at(-1)}));
refusals.proof_signed_by_another_key = await refused('credential', () =>
  obtain(offers.other_key, edKey, 'jwt_vc_json', {signWith: thief}));

writeFileSync(process.argv[3], JSON.stringify({
  now: new Date().toISOString(),
  holder: {ldp_vc: edKey.did, jwt_vc_json: pKey.did},
  credentials: {ldp_vc: ldp.credential, jwt_vc_json: jwt.credential},
  refusals,
}));
for (const [name, outcome] of Object.entries(refusals)) {
  console.error(`${name}: ${outcome.refused ? 'refused' : 'ACCEPTED'} - ${outcome.detail.slice(0, 200)}`);
}
