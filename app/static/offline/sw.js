// The offline verifier's service worker (served as /verifier-hors-ligne/sw.js, scope /verifier-hors-ligne/).
// It keeps the page, its scripts and icons, the trust list and the status bundle on the device.
// Every request it keeps goes to the network first (so the lists are refreshed whenever there is
// a network), with the kept copy as the answer when the network fails or is too slow. The page and
// the server fill in VERSION (a digest of the page's files) and the addresses to keep.
"use strict";

var VERSION = "__VERSION__";
var CACHE = "blason-verifier-" + VERSION;
var ASSETS = __ASSETS__;
var LISTS = __LISTS__;
var SCOPE = new URL(self.registration.scope).pathname;
var TIMEOUT_MS = 6000;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    // The page and its files must all be kept; a list that cannot be fetched now is fetched later.
    return cache.addAll(ASSETS).then(function () {
      return Promise.all(LISTS.map(function (url) { return cache.add(url).catch(function () { return null; }); }));
    });
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("blason-verifier-") === 0 && name !== CACHE;
    }).map(function (name) {
      // Keep the lists of the previous version: they are still the freshest this device has.
      return caches.open(name).then(function (old) {
        return caches.open(CACHE).then(function (cache) {
          return Promise.all(LISTS.map(function (url) {
            return cache.match(url).then(function (mine) {
              if (mine) return null;
              return old.match(url).then(function (kept) { return kept ? cache.put(url, kept) : null; });
            });
          }));
        });
      }).then(function () { return caches.delete(name); });
    }));
  }).then(function () { return self.clients.claim(); }));
});

function kept(request) {
  var url = new URL(request.url);
  if (url.origin !== self.location.origin || request.method !== "GET") return false;
  if (request.mode === "navigate") return url.pathname === SCOPE;
  return ASSETS.indexOf(url.pathname + url.search) >= 0 || LISTS.indexOf(url.pathname) >= 0;
}

function fromNetwork(request) {
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () { reject(new Error("network too slow")); }, TIMEOUT_MS);
    fetch(request).then(function (response) {
      clearTimeout(timer);
      resolve(response);
    }, function (error) {
      clearTimeout(timer);
      reject(error);
    });
  });
}

function fromCache(request) {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(request, { ignoreVary: true }).then(function (hit) {
      // A page in another language than the one kept still opens offline: the kept one.
      return hit || (request.mode === "navigate" ? cache.match(SCOPE, { ignoreSearch: true }) : undefined);
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (!kept(request)) return;
  event.respondWith(fromNetwork(request).then(function (response) {
    if (!response.ok) return fromCache(request).then(function (hit) { return hit || response; });
    var copy = response.clone();
    caches.open(CACHE).then(function (cache) { return cache.put(request, copy); });
    return response;
  }, function () {
    return fromCache(request).then(function (hit) { return hit || Response.error(); });
  }));
});
