"""The only code that touches DynamoDB. One table; keys are documented in docs/data-model.md."""
