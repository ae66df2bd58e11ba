{% autoescape off %}// Leadloop form embed: inserts the form "{{ title|escapejs }}" as an iframe sized to its content.
(function () {
  "use strict";
  var script = document.currentScript;
  var hosted = "{{ hosted_url|escapejs }}";
  var params = new URLSearchParams(window.location.search);
  var query = new URLSearchParams({ embed: "1" });
  ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "lang"].forEach(function (name) {
    if (params.get(name)) query.set(name, params.get(name));
  });
  // The embedding page's language, for a form that speaks it (after an explicit ?lang=).
  var pageLang = (document.documentElement.lang || "").slice(0, 20);
  if (pageLang) query.set("_ll_hl", pageLang);
  // The embedding page's own address and referrer: the form's landing page and referrer.
  query.set("_ll_lp", window.location.href.slice(0, 1000));
  if (document.referrer) query.set("_ll_ref", document.referrer.slice(0, 1000));
  var frame = document.createElement("iframe");
  frame.src = hosted + "?" + query.toString();
  frame.title = "{{ title|escapejs }}";
  frame.setAttribute("data-leadloop-form", "{{ slug|escapejs }}");
  frame.style.cssText = "width:100%;min-height:420px;border:0;display:block;overflow:hidden";
  frame.setAttribute("scrolling", "no");
  if (script && script.parentNode) script.parentNode.insertBefore(frame, script.nextSibling);
  else document.body.appendChild(frame);
  var origin = new URL(hosted).origin;
  window.addEventListener("message", function (event) {
    if (event.origin !== origin || event.source !== frame.contentWindow) return;
    var data = event.data || {};
    if (data.type === "leadloop:height" && typeof data.height === "number") {
      frame.style.height = Math.ceil(data.height) + "px";
    } else if (data.type === "leadloop:redirect" && /^https?:\/\//i.test(String(data.url))) {
      window.location.assign(data.url);
    }
  });
})();
{% endautoescape %}
