// The offline verifier page: installs its service worker, loads the trust list and the status
// bundle (from the network when there is one, else from the copies the service worker kept),
// reads a code from the camera, a picture or pasted text, and shows the verdict of bl1.js.
// Nothing about a scan is sent anywhere: the only requests are for the page and the two lists.
(function () {
  "use strict";
  var root = document.getElementById("offline-verifier");
  if (!root || !window.BlasonOffline || !window.crypto || !crypto.subtle || !window.DecompressionStream) return;
  var config = JSON.parse(root.dataset.config);
  var words = config.words;
  var lang = config.lang;
  var locale = lang === "en" ? "en-GB" : "fr-FR";  // dates as the rest of the site writes them
  var lists = { trust: null, status: null, error: null };
  var camera = { stream: null, timer: null, detector: null };

  function $(id) { return document.getElementById(id); }

  function say(key, values) {
    var message = words[key] || key;
    Object.keys(values || {}).forEach(function (name) {
      message = message.split("%(" + name + ")s").join(values[name]);
    });
    return message;
  }

  function dateText(seconds, withTime) {
    var options = withTime ? { dateStyle: "long", timeStyle: "short" } : { dateStyle: "long" };
    return new Intl.DateTimeFormat(locale, options).format(new Date(seconds * 1000));
  }

  function ago(seconds) {
    // "il y a 1 minute", "il y a 3 heures", "hier", "il y a 9 jours"
    var exact = new Intl.RelativeTimeFormat(locale, { numeric: "always" });
    var elapsed = Math.max(0, Date.now() / 1000 - seconds);
    if (elapsed < 3600) return exact.format(-Math.max(1, Math.floor(elapsed / 60)), "minute");
    if (elapsed < 86400) return exact.format(-Math.floor(elapsed / 3600), "hour");
    return new Intl.RelativeTimeFormat(locale, { numeric: "auto" }).format(-Math.floor(elapsed / 86400), "day");
  }

  function element(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  // --- the lists ------------------------------------------------------------------------------

  function fetchJws(url, typ) {
    return fetch(url, { cache: "no-cache" }).then(function (response) {
      if (!response.ok) throw new Error(url + ": " + response.status);
      return response.text();
    }).then(function (body) {
      return BlasonOffline.verifyJws(body, config.platformJwk, typ, config.base);
    });
  }

  function showLists() {
    var box = $("lists");
    var out = $("lists-state");
    out.replaceChildren();
    box.classList.remove("old", "none");
    if (!lists.trust || !lists.status) {
      box.classList.add("none");
      out.append(element("p", say("offline_lists_none"), "strong"));
      root.dataset.lists = "none";
      return;
    }
    var dl = element("dl");
    [["offline_lists_issuers", lists.trust.iat], ["offline_lists_status", lists.status.iat]].forEach(function (row) {
      dl.append(element("dt", say(row[0])));
      var dd = element("dd", say("offline_lists_date", { date: dateText(row[1], true), ago: ago(row[1]) }));
      dd.dataset.iat = String(row[1]);
      dl.append(dd);
    });
    out.append(dl);
    var oldest = Math.min(lists.trust.iat, lists.status.iat);
    var days = Math.floor((Date.now() / 1000 - oldest) / 86400);
    if (days >= config.warnDays) {
      box.classList.add("old");
      out.append(element("p", say("offline_lists_old", { days: String(days) }), "strong"));
    }
    out.append(element("p", navigator.onLine ? say("offline_lists_online") : say("offline_lists_offline"), "muted"));
    root.dataset.lists = "ready";
    root.dataset.listsAge = String(days);
  }

  function loadLists() {
    $("lists-state").setAttribute("aria-busy", "true");
    root.dataset.lists = "loading";
    return Promise.all([
      fetchJws(config.trustUrl, "blason-trust-list+jwt"),
      fetchJws(config.statusUrl, "blason-status-bundle+jwt")
    ]).then(function (both) {
      lists.trust = both[0];
      lists.status = both[1];
      lists.error = null;
    }, function (error) {
      lists.error = String(error && error.message || error);
    }).then(function () {
      $("lists-state").removeAttribute("aria-busy");
      showLists();
    });
  }

  // --- the verdict ----------------------------------------------------------------------------

  var TONES = {
    genuine: "ok", expired: "warn", not_yet_valid: "warn", status_unknown: "warn", no_lists: "warn",
    tampered: "bad", unknown_issuer: "bad", compromised: "bad", revoked: "bad", suspended: "bad", unreadable: "bad"
  };

  function row(dl, key, value) {
    if (value === null || value === undefined || value === "") return;
    dl.append(element("dt", say(key)));
    var dd = element("dd");
    if (value instanceof Node) dd.append(value); else dd.textContent = value;
    dl.append(dd);
  }

  function showResult(result, elapsed) {
    var out = $("result");
    out.replaceChildren();
    var listsDate = lists.status ? dateText(lists.status.iat, true) : "";
    var tone = TONES[result.verdict] || "bad";
    var section = element("section", null, "verdict verdict-" + tone);
    section.dataset.verdict = result.verdict;
    var heading = element("h2");
    heading.id = "verdict";
    heading.tabIndex = -1;
    heading.append(element("span", tone === "ok" ? "✓" : (tone === "warn" ? "!" : "✕"), "icon"));
    heading.lastChild.setAttribute("aria-hidden", "true");
    heading.append(document.createTextNode(" " + say("offline_verdict_" + result.verdict, { date: listsDate })));
    section.append(heading);
    var claims = result.claims;
    var values = {
      issuer: (claims && claims.issuerName) || (result.issuer && result.issuer.name) || "",
      date: listsDate,
      until: claims && claims.expires !== null ? dateText(claims.expires) : "",
      from: claims && claims.validFrom !== null ? dateText(claims.validFrom) : ""
    };
    section.append(element("p", say("offline_verdict_" + result.verdict + "_more", values)));
    section.append(element("p", say("offline_checked", { date: dateText(Date.now() / 1000, true), ms: elapsed.toFixed(1) }), "when"));
    out.append(section);
    if (claims) {
      out.append(element("h3", say("offline_content")));
      out.append(element("p", say("offline_content_hint"), "muted"));
      var dl = element("dl");
      dl.id = "content";
      var name = element("span", claims.name);
      if (claims.nameLang) name.lang = claims.nameLang;
      row(dl, "offline_badge", claims.name ? name : null);
      row(dl, "offline_type", claims.type);
      row(dl, "offline_issuer", claims.issuerName);
      row(dl, "offline_issuer_id", claims.issuerId);
      row(dl, "offline_holder", claims.holder || say("offline_holder_hidden"));
      row(dl, "offline_issued", claims.issuedAt !== null ? dateText(claims.issuedAt) : null);
      row(dl, "offline_valid_from", claims.validFrom !== null ? dateText(claims.validFrom) : null);
      row(dl, "offline_expires", claims.expires !== null ? dateText(claims.expires) : say("offline_no_expiry"));
      if (claims.competencies.length) {
        var list = element("ul", null, "codes");
        claims.competencies.forEach(function (code) { list.append(element("li", code)); });
        if (claims.competencyCount > claims.competencies.length) {
          list.append(element("li", say("offline_competencies_more", {
            shown: String(claims.competencies.length), total: String(claims.competencyCount)
          }), "muted"));
        }
        row(dl, "offline_competencies", list);
      }
      row(dl, "offline_address", claims.url);
      row(dl, "offline_key", result.key ? result.key.alg + (result.key.status === "retired" ? " · " + say("offline_key_retired") : "") : null);
      out.append(dl);
      if (claims.url) out.append(element("p", say("offline_address_hint"), "muted"));
    }
    out.dataset.ms = elapsed.toFixed(3);
    out.dataset.verdict = result.verdict;
    heading.focus();
  }

  function check(text) {
    var value = String(text || "").replace(/\s+$/, "").replace(/^\s+/, "");
    if (!lists.trust || !lists.status) {
      showResult({ verdict: "no_lists", claims: null }, 0);
      return Promise.resolve();
    }
    var started = performance.now();
    return BlasonOffline.verify(value, lists.trust, lists.status).then(function (result) {
      var elapsed = performance.now() - started;
      window.blasonOfflineTiming = elapsed;
      showResult(result, elapsed);
    });
  }

  // --- reading a code -------------------------------------------------------------------------

  function detector() {
    if (camera.detector !== null) return Promise.resolve(camera.detector);
    if (!("BarcodeDetector" in window)) return Promise.resolve(camera.detector = false);
    return window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      camera.detector = formats.indexOf("qr_code") >= 0 ? new window.BarcodeDetector({ formats: ["qr_code"] }) : false;
      return camera.detector;
    }, function () { return (camera.detector = false); });
  }

  // The QR code in an image, a video frame or a bitmap: the browser's detector, else jsQR.
  function readCode(source, width, height) {
    return detector().then(function (found) {
      if (!found) return null;
      return found.detect(source).then(function (codes) { return codes.length ? codes[0].rawValue : null; }, function () { return null; });
    }).then(function (value) {
      if (value !== null || !window.jsQR) return value;
      var scale = Math.min(1, 1600 / Math.max(width, height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(width * scale));
      canvas.height = Math.max(1, Math.round(height * scale));
      var context = canvas.getContext("2d", { willReadFrequently: true });
      context.drawImage(source, 0, 0, canvas.width, canvas.height);
      var pixels = context.getImageData(0, 0, canvas.width, canvas.height);
      var code = window.jsQR(pixels.data, canvas.width, canvas.height, { inversionAttempts: "attemptBoth" });
      return code ? code.data : null;
    });
  }

  function found(value) {
    $("code").value = value;
    return check(value);
  }

  function note(key) {
    $("read-note").textContent = key ? say(key) : "";
  }

  function fromImage(file) {
    note("");
    if (!file) return Promise.resolve();
    return createImageBitmap(file).then(function (bitmap) {
      return readCode(bitmap, bitmap.width, bitmap.height);
    }).then(function (value) {
      if (value === null) return note("offline_image_no_code");
      if (value.toUpperCase().indexOf(BlasonOffline.PREFIX) !== 0) return note("offline_not_signed_code");
      return found(value);
    }, function () { note("offline_image_unreadable"); });
  }

  function stopCamera() {
    if (camera.timer) clearTimeout(camera.timer);
    camera.timer = null;
    if (camera.stream) camera.stream.getTracks().forEach(function (track) { track.stop(); });
    camera.stream = null;
    $("video").hidden = true;
    $("camera").textContent = say("offline_camera_start");
    $("camera").setAttribute("aria-pressed", "false");
  }

  function scanFrame() {
    var video = $("video");
    if (!camera.stream) return;
    var next = function () { camera.timer = setTimeout(scanFrame, 250); };
    if (video.readyState < 2) return next();
    readCode(video, video.videoWidth, video.videoHeight).then(function (value) {
      if (!camera.stream) return;
      if (value && value.toUpperCase().indexOf(BlasonOffline.PREFIX) === 0) {
        stopCamera();
        return found(value);
      }
      if (value) note("offline_not_signed_code");
      next();
    }, next);
  }

  function startCamera() {
    if (camera.stream) return stopCamera();
    note("");
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return note("offline_camera_none");
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false }).then(function (stream) {
      camera.stream = stream;
      var video = $("video");
      video.srcObject = stream;
      video.hidden = false;
      $("camera").textContent = say("offline_camera_stop");
      $("camera").setAttribute("aria-pressed", "true");
      return video.play().then(scanFrame);
    }).catch(function () { stopCamera(); note("offline_camera_denied"); });
  }

  // --- start ----------------------------------------------------------------------------------

  $("nojs").hidden = true;
  $("app").hidden = false;
  $("paste").addEventListener("submit", function (event) {
    event.preventDefault();
    check($("code").value);
  });
  $("image").addEventListener("change", function () { fromImage(this.files[0]); });
  $("camera").hidden = !(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  $("camera").addEventListener("click", startCamera);
  $("refresh").addEventListener("click", loadLists);
  window.addEventListener("online", loadLists);
  window.addEventListener("offline", showLists);

  var ready = Promise.resolve();
  if ("serviceWorker" in navigator) {
    ready = navigator.serviceWorker.register(config.worker, { scope: config.scope }).then(function () {
      return navigator.serviceWorker.ready;
    }).catch(function () { return null; });
  }
  // The lists are read once the worker runs, so the first visit already leaves copies on the device.
  ready.then(loadLists).then(function () { root.dataset.ready = "true"; });
})();
