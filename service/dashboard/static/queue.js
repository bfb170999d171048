// The queue refreshes itself every 4 s; a new emergency raises a banner and, when the
// person has turned it on, a sound. No framework: the server renders the rows.
(function () {
  "use strict";
  var rows = document.getElementById("queue-rows");
  if (!rows) { return; }
  var banner = document.getElementById("emergency-banner");
  var soundBox = document.getElementById("sound");
  var status = document.getElementById("refresh-status");
  var url = rows.getAttribute("data-refresh");
  var known = JSON.parse(rows.getAttribute("data-emergencies") || "[]");
  var audio = null;

  if (soundBox) {
    soundBox.checked = window.localStorage.getItem("checkin-sound") === "on";
    soundBox.addEventListener("change", function () {
      window.localStorage.setItem("checkin-sound", soundBox.checked ? "on" : "off");
    });
  }

  function beep() {
    if (!soundBox || !soundBox.checked) { return; }
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var tone = audio.createOscillator();
      var gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.value = 0.2;
      tone.connect(gain);
      gain.connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.6);
    } catch (e) { /* no audio device: the banner is enough */ }
  }

  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (response.status === 401) { window.location.reload(); throw new Error("signed out"); }
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) {
        var active = document.activeElement;
        var keepFocus = active && rows.contains(active) ? active.id : null;
        rows.innerHTML = data.html;
        if (keepFocus && document.getElementById(keepFocus)) {
          document.getElementById(keepFocus).focus();
        }
        var fresh = data.emergencies.filter(function (id) { return known.indexOf(id) < 0; });
        if (fresh.length) {
          banner.hidden = false;
          banner.textContent = "New emergency: " + fresh.length + " escalation" +
            (fresh.length > 1 ? "s" : "") + " just opened. See the top of the queue.";
          beep();
        }
        known = data.emergencies;
        var count = document.getElementById("review-count");
        if (count) { count.textContent = String(data.review); }
        if (status) { status.textContent = "Updated " + new Date().toLocaleTimeString(); }
      })
      .catch(function () {
        if (status) { status.textContent = "Could not refresh; retrying."; }
      });
  }

  window.setInterval(refresh, 4000);
})();
