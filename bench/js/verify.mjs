// Independent verification of badges/ output with Digital Bazaar's VC libraries (Data
// Integrity, eddsa-rdfc-2022) and jose (VC-JWT). Usage: node verify.mjs samples.json
// Exit status 0 only if every sample verifies and every tampered copy is rejected.
import {readFileSync} from 'node:fs';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {compactVerify, importJWK, decodeProtectedHeader} from 'jose';
import {makeLoader} from './loader.mjs';

const samples = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const loader = makeLoader();
for (const [url, document] of Object.entries(samples.documents)) {
  loader.add(url, document);
}
const now = new Date(samples.now);
let failures = 0;

function report(name, ok, detail = '') {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ' - ' + detail : ''}`);
  if(!ok) {
    failures++;
  }
}

async function verifyDi(credential) {
  const suite = new DataIntegrityProof({cryptosuite});
  return vc.verifyCredential({credential, suite, documentLoader: loader, now,
    checkStatus: async () => ({verified: true})});
}

for (const [name, credential] of Object.entries(samples.dataIntegrity)) {
  const result = await verifyDi(credential);
  report(`Data Integrity: ${name}`, result.verified,
    result.verified ? '' : JSON.stringify(result.error || result.results?.[0]?.error).slice(0, 300));
  const tampered = structuredClone(credential);
  tampered.validFrom = '2001-01-01T00:00:00Z';
  const bad = await verifyDi(tampered);
  report(`Data Integrity (tampered copy rejected): ${name}`, !bad.verified);
}

for (const [name, {token, jwk}] of Object.entries(samples.jwt)) {
  try {
    const header = decodeProtectedHeader(token);
    const allowedHeader = Object.keys(header).every(k => ['alg', 'kid', 'typ'].includes(k));
    const key = await importJWK(jwk, header.alg);
    const {payload} = await compactVerify(token, key, {algorithms: [header.alg]});
    const claims = JSON.parse(new TextDecoder().decode(payload));
    const nbf = Math.floor(Date.parse(claims.validFrom) / 1000);
    const ok = allowedHeader && header.typ === 'JWT' && header.kid === jwk.kid &&
      claims.iss === claims.issuer.id && claims.jti === claims.id &&
      claims.sub === claims.credentialSubject.id && claims.nbf === nbf;
    report(`VC-JWT (jose): ${name}`, ok, ok ? header.alg : 'claims or header mismatch');
  } catch(e) {
    report(`VC-JWT (jose): ${name}`, false, e.message);
  }
  const parts = token.split('.');
  const flipped = parts[1].slice(0, -2) + (parts[1].at(-2) === 'A' ? 'B' : 'A') +
    parts[1].at(-1);
  try {
    const key = await importJWK(jwk, decodeProtectedHeader(token).alg);
    await compactVerify([parts[0], flipped, parts[2]].join('.'), key);
    report(`VC-JWT (tampered copy rejected): ${name}`, false);
  } catch {
    report(`VC-JWT (tampered copy rejected): ${name}`, true);
  }
}

if(failures) {
  console.error(`${failures} independent check(s) failed`);
  process.exit(1);
}
console.log('all independent checks passed');
