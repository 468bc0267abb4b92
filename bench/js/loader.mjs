// Static JSON-LD document loader for the independent check and the benchmark: it serves
// the context files shipped in badges/contexts plus documents registered at run time,
// and refuses every other URL (no network).
import {readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const contextDir = join(here, '..', '..', 'badges', 'contexts');

const CONTEXT_FILES = {
  'https://www.w3.org/ns/credentials/v2': 'credentials-v2.jsonld',
  'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json': 'ob-v3p0-context-3.0.3.json',
  'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json': 'ob-v3p0-context-3.0.2.json',
  'https://purl.imsglobal.org/spec/ob/v3p0/extensions.json': 'ob-v3p0-extensions.json',
  'https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json': 'clr-v2p0-context-2.0.1.json',
  'https://w3id.org/security/data-integrity/v2': 'data-integrity-v2.jsonld',
  'https://w3id.org/security/multikey/v1': 'multikey-v1.jsonld',
};

export function makeLoader() {
  const documents = new Map();
  for (const [url, file] of Object.entries(CONTEXT_FILES)) {
    documents.set(url, JSON.parse(readFileSync(join(contextDir, file), 'utf8')));
  }
  // The DID v1 context (for controller documents) comes from the did-context package.
  documents.set('https://www.w3.org/ns/did/v1', JSON.parse(readFileSync(
    join(here, 'node_modules', 'did-context', 'contexts', 'did-v1.jsonld'), 'utf8')));
  const loader = async url => {
    const base = documents.has(url) ? url : url.split('#')[0];
    if (!documents.has(base)) {
      throw new Error(`document loader refuses ${url}`);
    }
    let document = documents.get(base);
    if (base !== url) {
      // A fragment URL: return the verification method it names.
      const methods = [...(document.verificationMethod || []),
        ...(document.assertionMethod || [])];
      const method = methods.find(m => typeof m === 'object' && m.id === url);
      if (method) {
        document = {'@context': 'https://w3id.org/security/multikey/v1', ...method};
      }
    }
    return {contextUrl: null, documentUrl: url, document};
  };
  loader.add = (url, document) => documents.set(url, document);
  return loader;
}

// Register the issuer's controller document for an Ed25519 Multikey verification method.
export function addController(loader, {controller, id, publicKeyMultibase}) {
  const method = {id, type: 'Multikey', controller, publicKeyMultibase};
  loader.add(controller, {
    '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'],
    id: controller,
    assertionMethod: [method],
  });
}
