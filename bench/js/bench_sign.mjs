// Sign the same OB 3.0 credential N times with Digital Bazaar's eddsa-rdfc-2022 stack
// and print signatures per second as JSON. Usage: node bench_sign.mjs input.json [N]
// input.json: {credential, seedHex, controller, verificationMethod, created, extra?: [{credential, created}]}
import {readFileSync} from 'node:fs';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import jsigs from 'jsonld-signatures';
import {makeLoader, addController} from './loader.mjs';

const {purposes: {AssertionProofPurpose}} = jsigs;
const input = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const n = Number(process.argv[3] || 200);

const keyPair = await Ed25519Multikey.generate({
  seed: Uint8Array.from(Buffer.from(input.seedHex, 'hex')),
  id: input.verificationMethod, controller: input.controller,
});
const loader = makeLoader();
addController(loader, {controller: input.controller, id: input.verificationMethod,
  publicKeyMultibase: keyPair.publicKeyMultibase});

async function signOnce() {
  const suite = new DataIntegrityProof({signer: keyPair.signer(), cryptosuite,
    date: input.created});
  return jsigs.sign(structuredClone(input.credential),
    {suite, purpose: new AssertionProofPurpose(), documentLoader: loader});
}

const warm = await signOnce();
for (let i = 0; i < 20; i++) await signOnce();
const start = process.hrtime.bigint();
const cpuStart = process.cpuUsage();
for (let i = 0; i < n; i++) await signOnce();
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
const cpu = process.cpuUsage(cpuStart);  // CPU time (user + system, µs): what a shared machine changes least
const cpuSeconds = (cpu.user + cpu.system) / 1e6;

const vstart = process.hrtime.bigint();
const vsuite = new DataIntegrityProof({cryptosuite});
let ok = true;
for (let i = 0; i < n; i++) {
  const result = await jsigs.verify(warm, {suite: vsuite,
    purpose: new AssertionProofPurpose(), documentLoader: loader});
  ok = ok && result.verified;
}
const vseconds = Number(process.hrtime.bigint() - vstart) / 1e9;

// Optional cross-check: sign other credentials (input.extra: [{credential, created}]) once each.
const extraProofValues = [];
for (const item of input.extra || []) {
  const suite = new DataIntegrityProof({signer: keyPair.signer(), cryptosuite, date: item.created});
  const signed = await jsigs.sign(structuredClone(item.credential),
    {suite, purpose: new AssertionProofPurpose(), documentLoader: loader});
  extraProofValues.push(signed.proof.proofValue);
}
console.log(JSON.stringify({signPerSecond: n / seconds, signPerCpuSecond: n / cpuSeconds,
  verifyPerSecond: n / vseconds,
  verified: ok, proofValue: warm.proof.proofValue, extraProofValues}));
