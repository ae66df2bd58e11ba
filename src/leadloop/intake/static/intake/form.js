// Leadloop hosted form: adds device and timing signals as hidden fields, and sizes its iframe.
// The form works without this file; these values only help to judge a submission.
(function () {
  "use strict";
  var started = (window.performance && performance.now) ? performance.now() : Date.now();

  // A small, fast 128-bit string hash (cyrb128); not cryptographic, and it need not be.
  function hash(text) {
    var h1 = 1779033703, h2 = 3144134277, h3 = 1013904242, h4 = 2773480762;
    for (var i = 0, k; i < text.length; i++) {
      k = text.charCodeAt(i);
      h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
      h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
      h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
      h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
    }
    h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
    h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
    h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
    h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
    return [h1 ^ h2 ^ h3 ^ h4, h2 ^ h1, h3 ^ h1, h4 ^ h1].map(function (n) {
      return ("00000000" + (n >>> 0).toString(16)).slice(-8);
    }).join("");
  }

  // Device fingerprint: a hash of stable navigator and screen properties. Many devices share
  // one; it is a hint that posts came from the same device, never an identity.
  function fingerprint() {
    var nav = window.navigator || {};
    var scr = window.screen || {};
    var zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
    return "fp1:" + hash([
      nav.userAgent, nav.language, (nav.languages || []).join(","), nav.platform,
      nav.hardwareConcurrency, nav.deviceMemory, nav.maxTouchPoints,
      scr.width, scr.height, scr.colorDepth, window.devicePixelRatio, zone,
    ].join("|"));
  }

  function setHidden(form, name, value) {
    var input = form.querySelector('input[name="' + name + '"]');
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      form.appendChild(input);
    }
    input.value = value == null ? "" : String(value).slice(0, 1000);
  }

  var params = new URLSearchParams(window.location.search);
  var embedded = params.get("embed") === "1";

  function postHeight() {
    if (!embedded || window.parent === window) return;
    var height = document.documentElement.scrollHeight;
    window.parent.postMessage({ type: "leadloop:height", height: height }, "*");
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-leadloop-form]");
    if (form) {
      var nav = window.navigator || {};
      setHidden(form, "_ll_fp", fingerprint());
      setHidden(form, "_ll_webdriver", nav.webdriver ? "1" : "0");
      setHidden(form, "_ll_plugins", nav.plugins ? nav.plugins.length : 0);
      setHidden(form, "_ll_languages", nav.languages ? nav.languages.length : 0);
      setHidden(form, "_ll_headless_ua", /headless/i.test(nav.userAgent || "") ? "1" : "0");
      setHidden(form, "_ll_landing", params.get("_ll_lp") || (embedded ? "" : window.location.href));
      setHidden(form, "_ll_referrer", params.get("_ll_ref") || (embedded ? "" : document.referrer));
      form.addEventListener("submit", function () {
        var now = (window.performance && performance.now) ? performance.now() : Date.now();
        setHidden(form, "_ll_ttsm", Math.round(now - started));
        var button = form.querySelector('button[type="submit"]');
        // Keep the first click; the render token makes a second one harmless anyway.
        if (button) window.setTimeout(function () { button.disabled = true; }, 0);
      });
      var alert = document.getElementById("form-errors");
      var invalid = form.querySelector('[aria-invalid="true"]');
      if (invalid) invalid.focus();
      else if (alert) alert.focus();
    }
    var thanks = document.querySelector("[data-leadloop-thanks][data-redirect]");
    if (thanks && embedded && window.parent !== window) {
      window.parent.postMessage({ type: "leadloop:redirect", url: thanks.getAttribute("data-redirect") }, "*");
    }
    postHeight();
    if (window.ResizeObserver) new ResizeObserver(postHeight).observe(document.body);
  });
  window.addEventListener("load", postHeight);
})();
