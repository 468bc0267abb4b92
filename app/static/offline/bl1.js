// Blason's offline verifier: reads a compact signed badge ("BL1:" + Base45(zlib(COSE_Sign1))) and
// verifies it in the browser against the trust list and the status bundle, both JWS signed by the
// platform key the page embeds. Nothing here touches the network: the caller hands over the texts.
// Format: README, "Compact signed badge (BL1)". CBOR decoding: the vendored cbor-x (window.CBOR).
(function (global) {
  "use strict";

  var PREFIX = "BL1:";
  var B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
  var COSE_ALGS = { "-8": "EdDSA", "-7": "ES256" };
  var BLASON = -70000;

  function Refusal(verdict, detail) {
    this.verdict = verdict;
    this.detail = detail;
  }

  // --- encodings ------------------------------------------------------------------------------

  function base45Decode(text) {
    var out = new Uint8Array(Math.floor(text.length / 3) * 2 + (text.length % 3 ? 1 : 0));
    var at = 0;
    for (var i = 0; i < text.length; i += 3) {
      var chunk = text.slice(i, i + 3);
      if (chunk.length < 2) throw new Refusal("tampered", "base45 length");
      var n = 0;
      for (var j = chunk.length - 1; j >= 0; j--) {
        var v = B45.indexOf(chunk[j]);
        if (v < 0) throw new Refusal("tampered", "base45 character");
        n = n * 45 + v;
      }
      if (chunk.length === 3) {
        if (n > 0xffff) throw new Refusal("tampered", "base45 value");
        out[at++] = n >> 8;
        out[at++] = n & 0xff;
      } else {
        if (n > 0xff) throw new Refusal("tampered", "base45 value");
        out[at++] = n;
      }
    }
    return out;
  }

  function base64urlDecode(text) {
    if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error("not base64url");
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var raw = atob(b64);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  function base64urlEncode(bytes) {
    var raw = "";
    for (var i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // zlib (RFC 1950) with format "deflate", GZIP with "gzip": the browser's own decompressor.
  function decompress(bytes, format) {
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream(format));
    return new Response(stream).arrayBuffer().then(function (buffer) { return new Uint8Array(buffer); });
  }

  // The COSE Sig_structure ["Signature1", protected, h'', payload] in CBOR (RFC 9052, section 4.4):
  // an array of one text and three byte strings, written here byte for byte.
  function cborHead(major, length) {
    var m = major << 5;
    if (length < 24) return [m | length];
    if (length < 0x100) return [m | 24, length];
    if (length < 0x10000) return [m | 25, length >> 8, length & 0xff];
    return [m | 26, (length >>> 24) & 0xff, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff];
  }

  function sigStructure(protectedBytes, payload) {
    var context = new TextEncoder().encode("Signature1");
    var parts = [
      cborHead(4, 4), cborHead(3, context.length), context,
      cborHead(2, protectedBytes.length), protectedBytes, cborHead(2, 0),
      cborHead(2, payload.length), payload
    ];
    var size = parts.reduce(function (sum, part) { return sum + part.length; }, 0);
    var out = new Uint8Array(size);
    var at = 0;
    parts.forEach(function (part) { out.set(part, at); at += part.length; });
    return out;
  }

  function cborDecode(bytes) {
    return new global.CBOR.Decoder({ mapsAsObjects: false, useRecords: false }).decode(bytes);
  }

  function isBytes(value) { return value instanceof Uint8Array; }
  function isMap(value) { return value instanceof Map; }

  // --- keys and signatures --------------------------------------------------------------------

  function importKey(jwk, alg) {
    if (alg === "EdDSA" && jwk.kty === "OKP" && jwk.crv === "Ed25519") {
      return crypto.subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", x: jwk.x }, { name: "Ed25519" }, false, ["verify"]);
    }
    if (alg === "ES256" && jwk.kty === "EC" && jwk.crv === "P-256") {
      return crypto.subtle.importKey(
        "jwk", { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y }, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]
      );
    }
    return Promise.reject(new Error("key and algorithm do not match"));
  }

  function verifySignature(key, alg, signature, data) {
    var params = alg === "EdDSA" ? { name: "Ed25519" } : { name: "ECDSA", hash: "SHA-256" };
    return crypto.subtle.verify(params, key, signature, data);
  }

  // A compact JWS of the platform (trust list or status bundle): its payload, once the signature,
  // the type and the issuer are right; an Error otherwise.
  function verifyJws(compact, platformJwk, typ, base) {
    var parts = String(compact).trim().split(".");
    if (parts.length !== 3) return Promise.reject(new Error("not a compact JWS"));
    var header, payload;
    try {
      header = JSON.parse(new TextDecoder().decode(base64urlDecode(parts[0])));
      payload = JSON.parse(new TextDecoder().decode(base64urlDecode(parts[1])));
    } catch (error) {
      return Promise.reject(new Error("unreadable JWS"));
    }
    if (header.alg !== "EdDSA" || header.typ !== typ) return Promise.reject(new Error("unexpected JWS header"));
    var signed = new TextEncoder().encode(parts[0] + "." + parts[1]);
    return importKey(platformJwk, "EdDSA")
      .then(function (key) { return verifySignature(key, "EdDSA", base64urlDecode(parts[2]), signed); })
      .then(function (ok) {
        if (!ok) throw new Error("the platform's signature does not match");
        if (base && payload.iss !== base) throw new Error("issued by another platform");
        if (typeof payload.iat !== "number") throw new Error("undated");
        return payload;
      });
  }

  // --- the compact badge ----------------------------------------------------------------------

  // Every (issuer, key) of the trust list with this kid and algorithm (kids are hints: rarely more than one).
  function findKeys(trust, kid, alg) {
    var found = [];
    ((trust && trust.issuers) || []).forEach(function (issuer) {
      (issuer.keys || []).forEach(function (key) {
        if (key.kid === kid && key.alg === alg) found.push({ issuer: issuer, key: key });
      });
    });
    return found;
  }

  function text(value) { return typeof value === "string" ? value : null; }
  function integer(value) { return typeof value === "number" && Number.isInteger(value) ? value : null; }

  function uuidOf(bytes) {
    if (!isBytes(bytes) || bytes.length !== 16) return null;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  // A status entry [16-byte list id, index]; the bundle keys its lists by the id written as a UUID.
  function entry(value) {
    var id = Array.isArray(value) ? uuidOf(value[0]) : null;
    return id && Number.isInteger(value[1]) && value[1] >= 0 ? { id: id, index: value[1] } : null;
  }

  // What the payload says, as signed (CWT claims and Blason's claims, README "BL1").
  function readClaims(map) {
    if (!isMap(map)) throw new Refusal("tampered", "claims are not a map");
    var own = map.get(BLASON);
    if (!isMap(own)) own = new Map();
    var codes = Array.isArray(own.get(6)) ? own.get(6).filter(function (c) { return typeof c === "string"; }) : [];
    var validFrom = integer(map.get(5));
    return {
      issuerId: text(map.get(1)),
      expires: integer(map.get(4)),
      validFrom: validFrom,
      issuedAt: map.has(6) ? integer(map.get(6)) : validFrom,  // absent when equal to nbf
      id: uuidOf(map.get(7)),
      url: text(own.get(1)),
      name: text(own.get(2)),
      nameLang: text(own.get(3)),
      issuerName: text(own.get(4)),  // usually absent: the trust list names the key's issuer
      holder: text(own.get(5)),
      competencies: codes,
      competencyCount: integer(own.get(7)) || codes.length,
      revocation: entry(own.get(8)),
      suspension: entry(own.get(9)),
      type: text(own.get(10))
    };
  }

  // Is the bit at ``index`` set in a W3C Bitstring status list (index 0 = first byte's highest bit)?
  function statusBit(bundle, status, purpose) {
    var list = bundle && bundle.lists && Object.prototype.hasOwnProperty.call(bundle.lists, status.id)
      ? bundle.lists[status.id] : null;
    if (!list || list.purpose !== purpose || typeof list.encodedList !== "string" || list.encodedList[0] !== "u") {
      return Promise.resolve(null);
    }
    return decompress(base64urlDecode(list.encodedList.slice(1)), "gzip").then(function (bits) {
      var byte = status.index >> 3;
      if (byte >= bits.length) return true;  // an index beyond the list cannot be cleared: refused
      return (bits[byte] & (0x80 >> (status.index & 7))) !== 0;
    }, function () { return null; });
  }

  // Decode and check the signature; resolves to {alg, kid, claims, signatureOk, found}.
  function decode(textValue) {
    var cleaned = String(textValue || "").trim();
    if (cleaned.slice(0, PREFIX.length).toUpperCase() !== PREFIX) {
      return Promise.reject(new Refusal("unreadable", "no BL1: prefix"));
    }
    var bytes;
    try {
      bytes = base45Decode(cleaned.slice(PREFIX.length));
    } catch (error) {
      return Promise.reject(error);
    }
    return decompress(bytes, "deflate").catch(function () {
      throw new Refusal("tampered", "not zlib");
    }).then(function (raw) {
      var cose;
      try {
        cose = cborDecode(raw);
      } catch (error) {
        throw new Refusal("tampered", "not CBOR");
      }
      if (cose && cose.tag === 18) cose = cose.value;
      if (!Array.isArray(cose) || cose.length !== 4 || !isBytes(cose[0]) || !isBytes(cose[2]) || !isBytes(cose[3])) {
        throw new Refusal("tampered", "not a COSE_Sign1");
      }
      var header, claims;
      try {
        header = cborDecode(cose[0]);
        claims = cborDecode(cose[2]);
      } catch (error) {
        throw new Refusal("tampered", "unreadable header or payload");
      }
      if (!isMap(header)) throw new Refusal("tampered", "protected header is not a map");
      var alg = COSE_ALGS[String(header.get(1))];
      var kid = header.get(4);
      if (!alg) throw new Refusal("tampered", "unsupported algorithm");
      if (!isBytes(kid)) throw new Refusal("unknown_issuer", "no key id");
      return {
        alg: alg,
        kid: base64urlEncode(kid),
        claims: readClaims(claims),
        signature: cose[3].slice(),
        signed: sigStructure(cose[0], cose[2])
      };
    });
  }

  // The verdict on a scanned text, given the (already verified) trust list and status bundle.
  // Resolves to {verdict, claims (when signed by a known key), key, issuer, detail}.
  function verify(textValue, trust, bundle, nowSeconds) {
    var now = typeof nowSeconds === "number" ? nowSeconds : Math.floor(Date.now() / 1000);
    var state = {};
    return decode(textValue).then(function (decoded) {
      state = decoded;
      var candidates = findKeys(trust, decoded.kid, decoded.alg);
      if (!candidates.length) throw new Refusal("unknown_issuer", "key " + decoded.kid + " is not in the trust list");
      // The first key whose signature holds; none: compromised if one of them is, else tampered.
      return candidates.reduce(function (previous, candidate) {
        return previous.then(function (done) {
          if (done) return done;
          return importKey(candidate.key.jwk, decoded.alg).then(function (key) {
            return verifySignature(key, decoded.alg, decoded.signature, decoded.signed);
          }).then(function (ok) { return ok ? candidate : null; }, function () { return null; });
        });
      }, Promise.resolve(null)).then(function (verified) {
        if (verified) return verified;
        var compromised = candidates.filter(function (c) { return c.key.status === "compromised"; });
        state.found = compromised[0] || candidates[0];
        if (compromised.length) throw new Refusal("compromised", "key declared compromised");
        throw new Refusal("tampered", "signature does not match");
      });
    }).then(function (verified) {
      state.found = verified;
      var claims = state.claims;
      var issuer = state.found.issuer;
      // A stolen key can sign any date: whatever the payload says, it is refused.
      if (state.found.key.status === "compromised") throw new Refusal("compromised", "key declared compromised");
      var ids = issuer.ids && issuer.ids.length ? issuer.ids : [issuer.id];
      if (!claims.issuerId || ids.indexOf(claims.issuerId) < 0) {
        throw new Refusal("unknown_issuer", "the payload's issuer is not the key's");
      }
      if (!claims.issuerName) claims.issuerName = issuer.name || null;
      var checks = [
        claims.revocation ? statusBit(bundle, claims.revocation, "revocation") : Promise.resolve(false),
        claims.suspension ? statusBit(bundle, claims.suspension, "suspension") : Promise.resolve(false)
      ];
      return Promise.all(checks).then(function (bits) {
        if (bits[0]) return "revoked";
        if (bits[1]) return "suspended";
        if (claims.validFrom !== null && claims.validFrom > now) return "not_yet_valid";
        if (claims.expires !== null && claims.expires < now) return "expired";
        if (bits[0] === null || bits[1] === null) return "status_unknown";
        return "genuine";
      });
    }).then(function (verdict) {
      return { verdict: verdict, claims: state.claims, issuer: state.found.issuer, key: state.found.key };
    }, function (error) {
      if (!(error instanceof Refusal)) error = new Refusal("tampered", String(error && error.message || error));
      // Content is shown only when its signature holds and its key can be trusted.
      return {
        verdict: error.verdict,
        detail: error.detail,
        claims: null,
        issuer: state.found ? state.found.issuer : null,
        key: state.found ? state.found.key : null
      };
    });
  }

  global.BlasonOffline = {
    PREFIX: PREFIX,
    base45Decode: base45Decode,
    verifyJws: verifyJws,
    verify: verify
  };
})(window);
