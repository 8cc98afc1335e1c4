// Swagger UI over this service's own document; "Authorize" takes an API key for "Try it out".
window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/v1/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    // No calls to swagger.io: the validator badge would fetch from it.
    validatorUrl: null,
    persistAuthorization: false,
    tryItOutEnabled: false,
  });
});
