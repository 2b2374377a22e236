// Starts Swagger UI on /api/v1/docs. A file of its own, not an inline script, so the page
// runs under the same Content-Security-Policy as the rest of the site.
window.addEventListener("load", function () {
  "use strict";
  var node = document.getElementById("swagger-ui");
  window.ui = window.SwaggerUIBundle({
    url: node.dataset.url,
    domNode: node,
    deepLinking: true,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
