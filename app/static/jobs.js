// A job's page: follow its progress without reloading (the page works without this script, with
// its "Actualiser" link). Every 1.5 s, read /taches/<id>/etat (JSON) and update the bar and the
// words; the status region is polite and only changes when the words do. At the end, reload the
// page once to show the outcome.
(function () {
  "use strict";
  var root = document.getElementById("job");
  if (!root || !window.fetch) return;
  var url = root.dataset.jobStateUrl;
  if (!url || root.dataset.jobState === "succeeded" || root.dataset.jobState === "failed") return;
  var stateWords = document.getElementById("job-state-words");
  var step = document.getElementById("job-step");
  var bar = document.getElementById("job-progress");
  var barWords = document.getElementById("job-progress-words");
  var refresh = document.getElementById("job-refresh");
  var auto = document.getElementById("job-auto");
  if (refresh) refresh.hidden = true;
  if (auto) auto.hidden = false;

  function setText(element, text) {
    if (element && element.textContent !== text) element.textContent = text;
  }

  function show(data) {
    root.dataset.jobState = data.state;
    setText(stateWords, data.stateWords);
    if (step) {
      step.hidden = !data.step;
      setText(step, data.step ? step.dataset.prefix.replace("%s", data.step) : "");
    }
    if (bar) {
      if (data.total) {
        bar.max = data.total;
        bar.value = data.done;
      } else {
        bar.removeAttribute("value");
      }
      setText(bar, data.progressWords);
    }
    setText(barWords, data.progressWords);
  }

  function stop() {
    if (refresh) refresh.hidden = false;
    if (auto) auto.hidden = true;
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        show(data);
        if (data.finished) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1500);
        }
      })
      .catch(stop);
  }

  window.setTimeout(poll, 1500);
})();
