// Boots Swagger UI on /docs against this deployment's own spec.
window.ui = SwaggerUIBundle({
  url: "/v1/openapi.json",
  dom_id: "#ui",
  persistAuthorization: true,
  tryItOutEnabled: true,
});
