"""The API's OpenAPI 3.1 document, generated from the request models, the response models here
and the routes in template.yaml.

`python -m api_spec` (or `make openapi`) writes `openapi.json` at the repository root. This
package is for tooling, tests and the local API only: it is not in the Lambda layer, so no
function pays for it at cold start.
"""

from api_spec.document import OPENAPI_PATH, build_document, render

__all__ = ["OPENAPI_PATH", "build_document", "render"]
