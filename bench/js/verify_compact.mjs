// Independent check of Blason's compact signed badges (BL1): an npm COSE implementation
// (@auth0/cose) verifies the COSE_Sign1 that badges/compact.py signed with pycose.
// Usage: node verify_compact.mjs samples.json — samples: [{payload: "BL1:...", jwk: {...}, valid: bool}]
// Prints "ok <n>" for each sample whose outcome is the expected one; exits 1 on any mismatch.
import { readFileSync } from "node:fs";
import { inflateSync } from "node:zlib";
import { importJWK } from "jose";
import { Sign1 } from "@auth0/cose";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

function base45Decode(text) {
  const out = [];
  for (let i = 0; i < text.length; i += 3) {
    const chunk = text.slice(i, i + 3);
    const values = [...chunk].map((c) => {
      const v = ALPHABET.indexOf(c);
      if (v < 0) throw new Error(`not Base45: ${c}`);
      return v;
    });
    const n = values.reduce((acc, v, k) => acc + v * 45 ** k, 0);
    if (chunk.length === 3) out.push(n >> 8, n & 0xff);
    else out.push(n);
  }
  return Uint8Array.from(out);
}

const samples = JSON.parse(readFileSync(process.argv[2], "utf8"));
let failures = 0;
for (const [n, sample] of samples.entries()) {
  if (!sample.payload.startsWith("BL1:")) throw new Error("not a BL1 payload");
  const cose = inflateSync(base45Decode(sample.payload.slice(4)));
  const message = Sign1.decode(cose);
  const { alg, ...jwk } = sample.jwk;
  const key = await importJWK(jwk, alg);
  let valid = true;
  try {
    await message.verify(key, { algorithms: [-8, -7] });
  } catch (error) {
    valid = false;
    if (process.env.DEBUG) console.error(error);
  }
  if (valid === sample.valid) {
    console.log(`ok ${n} ${message.algName} valid=${valid}`);
  } else {
    console.log(`FAIL ${n} ${message.algName}: expected valid=${sample.valid}, got ${valid}`);
    failures += 1;
  }
}
process.exit(failures ? 1 : 0);
