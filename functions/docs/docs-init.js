/*
 * Starts Swagger UI on the API reference page (/api/v1/docs/), with the API's own document.
 * A file of its own rather than an inline script, so that the page is served with a
 * Content-Security-Policy that allows scripts from this API only.
 */
(function () {
  "use strict";

  // What precedes /api/v1/docs/ in this page's path: "" locally, "/v1" (the stage) when
  // API Gateway's default URL is used. The document's paths start at /api/v1/.
  var prefix = window.location.pathname.replace(/\/api\/v1\/docs(\/[^/]*)?$/, "");

  function toThisApi(request) {
    // Try-it-out calls go to this page's origin (the document names no server); behind a stage
    // they need the stage's prefix too.
    if (prefix) {
      var url = new URL(request.url, window.location.href);
      if (url.origin === window.location.origin && url.pathname.indexOf("/api/v1/") === 0) {
        url.pathname = prefix + url.pathname;
        request.url = url.href;
      }
    }
    // The Authorize dialog takes the token alone: the API wants "Token <token>".
    var headers = request.headers || {};
    var authorization = headers.Authorization;
    if (typeof authorization === "string" && /^\S+$/.test(authorization.trim())) {
      headers.Authorization = "Token " + authorization.trim();
    }
    return request;
  }

  window.ui = window.SwaggerUIBundle({
    url: "./openapi.json",
    dom_id: "#swagger-ui",
    presets: [window.SwaggerUIBundle.presets.apis, window.SwaggerUIStandalonePreset],
    plugins: [window.SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout",
    deepLinking: true,
    displayOperationId: true,
    displayRequestDuration: true,
    persistAuthorization: true,
    tryItOutEnabled: true,
    // No badge from validator.swagger.io: the page fetches nothing from elsewhere.
    validatorUrl: null,
    requestInterceptor: toThisApi
  });
})();
